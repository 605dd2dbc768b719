package cgpl

import "fmt"

// Pure is a library function that needs nothing but its arguments: string,
// number, time, array, dictionary and conversion functions. Functions that
// need the running task (SysLog, Vars, events, mail) are registered by the
// runtime and the host.
type Pure struct {
	// Name as documented; calls match it case-insensitively.
	Name string
	// MinArgs and MaxArgs bound the argument count (MaxArgs -1: no limit);
	// a call outside them is a compile-time error.
	MinArgs, MaxArgs int
	Fn               func(args []Value) (Value, error)
}

// Exception is a program exception: it ends the task (not the server) and
// is reported with the position of the code that raised it.
type Exception struct {
	Msg string
}

func (e *Exception) Error() string { return e.Msg }

// Throw returns a program exception with a formatted message.
func Throw(format string, args ...any) error {
	return &Exception{Msg: fmt.Sprintf(format, args...)}
}
