//go:build unix

package pgtest

import (
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// runAs runs commands as another user (root may switch to anyone).
type runAs struct{ uid, gid int }

func newRunAs(u *user.User) (*runAs, error) {
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s: uid %q, gid %q", u.Username, u.Uid, u.Gid)
	}
	return &runAs{uid: uid, gid: gid}, nil
}

func (r *runAs) apply(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid)}}
}
