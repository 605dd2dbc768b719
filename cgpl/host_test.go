package cgpl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// htHost is a Host whose every function records its call and answers.
func htHost(calls *[]string) *Host {
	rec := func(format string, args ...any) { *calls = append(*calls, fmt.Sprintf(format, args...)) }
	return &Host{
		GetAccountPreferences: func(t *Task, key string) (Value, error) {
			rec("GetAccountPreferences(%q) as %s", key, t.Email())
			return String("pref:" + key), nil
		},
		SetAccountPreferences: func(t *Task, v Value, key string) (Value, error) {
			rec("SetAccountPreferences(%s, %q)", ObjectToString(v), key)
			return nil, nil
		},
		Impersonate: func(t *Task, addr string) (Value, error) {
			rec("Impersonate(%q)", addr)
			t.SetOwner(addr, EmailDomainPartOf(addr))
			return nil, nil
		},
		ReadGroupMembers: func(t *Task, g string) (Value, error) {
			rec("ReadGroupMembers(%q)", g)
			return NewArray(String("a@x"), String("b@x")), nil
		},
		ReadTelnums: func(t *Task, acct string) (Value, error) {
			rec("ReadTelnums(%q)", acct)
			return NewArray(String("100")), nil
		},
		RouteAddress: func(t *Task, addr, kind string) (Value, error) {
			rec("RouteAddress(%q, %q)", addr, kind)
			d := NewDict()
			d.Set("module", String("LOCAL"))
			return d, nil
		},
		RouteENUM: func(t *Task, svc, phone, domain string) (Value, error) {
			rec("RouteENUM(%q, %q, %q)", svc, phone, domain)
			return NewArray(String("sip:x@y")), nil
		},
		SystemInfo: func(t *Task, what string) (Value, error) {
			rec("SystemInfo(%q)", what)
			return String("Ringo"), nil
		},
		StoreCDR: func(t *Task, r string) error {
			rec("StoreCDR(%q)", r)
			return nil
		},
		ExecuteCLI: func(t *Task, cmd string) (Value, Value, error) {
			rec("ExecuteCLI(%q)", cmd)
			return String("output"), nil, nil
		},
		Statistics: func(t *Task, elem, op string, v Value) (Value, error) {
			rec("Statistics(%q, %q, %s)", elem, op, ObjectToString(v))
			return Number(5), nil
		},
		DoBalance: func(t *Task, p *Dict, acct string) (Value, error) {
			rec("DoBalance(%s, %q)", ObjectToString(p), acct)
			return NewDict(), nil
		},
		BannerRead: func(t *Task, kind string, p Value) (Value, error) {
			rec("BannerRead(%q, %s)", kind, ObjectToString(p))
			return String("banner"), nil
		},
		SendInstantMessage: func(t *Task, from, to string, c Value) (Value, error) {
			rec("SendInstantMessage(%q, %q, %s)", from, to, ObjectToString(c))
			return nil, nil
		},
		SendXMPPIQ: func(t *Task, from, to string, r *Dict) (Value, error) {
			rec("SendXMPPIQ(%q, %q, %s)", from, to, ObjectToString(r))
			return nil, nil
		},
		RADIUSCall: func(t *Task, addr string, p *Dict) (Value, error) {
			rec("RADIUSCall(%q, %s)", addr, ObjectToString(p))
			return String("timeout"), nil
		},
	}
}

// EmailDomainPartOf is the part of an address after "@".
func EmailDomainPartOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

func TestHostFunctions(t *testing.T) {
	src := `entry Main is
  SysLog(GetAccountPreferences("Language"));
  SysLog(GetAccountPreferences(null));
  p = NewDictionary();
  p.Language = "french";
  SysLog(SetAccountPreferences(p, "~ann/"));
  SysLog(SetAccountPreferences("x", "Language"));
  SysLog(SetAccountPreferences(p, 1));
  SysLog(Impersonate("ann@example.org"));
  SysLog(MyEmail() + " " + MyDomain());
  SysLog(ReadGroupMembers("sales"));
  SysLog(ReadTelnums());
  SysLog(ReadTelnums(null));
  SysLog(ReadTelnums("bob"));
  SysLog(RouteAddress("bob", "SIGNAL"));
  SysLog(RouteENUM("E2U+SIP", "+1", "e164.arpa"));
  SysLog(SystemInfo("serverVersion"));
  StoreCDR("APP 1.0");
  SysLog(ExecuteCLI("NOOP"));
  SysLog(Vars().executeCLIResult);
  SysLog(Statistics("c1", "INC", 2));
  SysLog(Statistics("c1", null, null));
  SysLog(DoBalance(p, "bob"));
  SysLog(BannerRead("top", p));
  SysLog(SendInstantMessage(null, "bob@example.com", "hello"));
  SysLog(SendXMPPIQ("me@example.com", "bob@example.com", p));
  SysLog(RADIUSCall("10.0.0.1", p));
  SetApplicationStatus(p);
  p.Language = "changed";
end;
`
	mod, err := Compile("h.sppr", []byte(src), NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	task := mod.NewTask(context.Background(), TaskOptions{Host: htHost(&calls), Email: "me@example.com", Domain: "example.com",
		SysLog: func(line string) { calls = append(calls, "> "+line) }})
	if err := task.Run(""); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`GetAccountPreferences("Language") as me@example.com`, "> pref:Language",
		`GetAccountPreferences("") as me@example.com`, "> pref:",
		`SetAccountPreferences({Language=french;}, "~ann/")`, "> #null#",
		`SetAccountPreferences(x, "Language")`, "> #null#",
		`SetAccountPreferences({Language=french;}, "")`, "> #null#",
		`Impersonate("ann@example.org")`, "> #null#", "> ann@example.org example.org",
		`ReadGroupMembers("sales")`, `> ("a@x","b@x")`,
		`ReadTelnums("")`, "> (100)",
		`ReadTelnums("")`, "> (100)",
		`ReadTelnums("bob")`, "> (100)",
		`RouteAddress("bob", "signal")`, "> {module=LOCAL;}",
		`RouteENUM("E2U+SIP", "+1", "e164.arpa")`, `> ("sip:x@y")`,
		`SystemInfo("serverVersion")`, "> Ringo",
		`StoreCDR("APP 1.0")`,
		`ExecuteCLI("NOOP")`, "> #null#", "> output",
		`Statistics("c1", "inc", #2)`, "> #5",
		`Statistics("c1", "", #null#)`, "> #5",
		`DoBalance({Language=french;}, "bob")`, "> {}",
		`BannerRead("top", {Language=french;})`, "> banner",
		`SendInstantMessage("", "bob@example.com", hello)`, "> #null#",
		`SendXMPPIQ("me@example.com", "bob@example.com", {Language=french;})`, "> #null#",
		`RADIUSCall("10.0.0.1", {Language=french;})`, "> timeout",
	}
	if got := strings.Join(calls, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if got := ObjectToString(task.ApplicationStatus()); got != "{Language=french;}" {
		t.Errorf("ApplicationStatus = %s", got)
	}
}

func TestHostArguments(t *testing.T) {
	cases := []struct{ call, want string }{
		{`GetAccountPreferences(1)`, "GetAccountPreferences: the key must be a string or null, not number"},
		{`SetAccountPreferences("x", "")`, "to set all preferences the value must be a dictionary, not string"},
		{`SetAccountPreferences("x", "~bob/")`, "the value must be a dictionary"},
		{`Impersonate(null)`, "Impersonate: the address must be a string, not null"},
		{`ReadTelnums(1)`, "ReadTelnums: the account name must be a string or null"},
		{`RouteAddress("a", "fax")`, `the address type is mail, signal or access, not "fax"`},
		{`RouteENUM("s", 1, "d")`, "RouteENUM: the phone number must be a string"},
		{`SystemInfo(null)`, "SystemInfo: the argument must be a string"},
		{`StoreCDR(1)`, "StoreCDR: the record must be a string"},
		{`ExecuteCLI(NewArray())`, "ExecuteCLI: the command must be a string"},
		{`Statistics("e", "add", 1)`, `the operation is inc, set or null, not "add"`},
		{`DoBalance("p", null)`, "DoBalance: the parameters must be a dictionary"},
		{`BannerRead(null, null)`, "BannerRead: the banner type must be a string"},
		{`ReadEnvirFile(1)`, "ReadEnvirFile: the file name must be a string"},
		{`SendInstantMessage(null, null, "x")`, "SendInstantMessage: the recipient must be a string"},
		{`SendXMPPIQ(null, "a@b", "x")`, "SendXMPPIQ: the request must be a dictionary"},
		{`RADIUSCall("a", null)`, "RADIUSCall: the parameters must be a dictionary"},
		{`ReadEnvirFile("")`, `ReadEnvirFile: "" is not a file name`},
	}
	for _, c := range cases {
		src := "entry Main is\n  " + c.call + ";\nend;\n"
		mod, err := Compile("a.sppr", []byte(src), NewRegistry())
		if err != nil {
			t.Fatalf("%s: %v", c.call, err)
		}
		for _, h := range []*Host{nil, htHost(new([]string))} {
			err := mod.NewTask(context.Background(), TaskOptions{Host: h}).Run("")
			var re *RuntimeError
			if !errors.As(err, &re) || re.Pos.Line != 2 || !strings.Contains(re.Msg, c.want) {
				t.Errorf("%s (host %v): %v, want %q", c.call, h != nil, err, c.want)
			}
		}
	}
}

// A Go error from the host ends the task with a program exception.
func TestHostError(t *testing.T) {
	mod, err := Compile("e.sppr", []byte("entry Main is\n  SysLog(\"a\");\n  x = SystemInfo(\"x\");\nend;\n"), NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{SystemInfo: func(*Task, string) (Value, error) { return nil, errors.New("directory is down") }}
	err = mod.NewTask(context.Background(), TaskOptions{Host: h}).Run("")
	if err == nil || err.Error() != "e.sppr:3:7: directory is down" {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.SystemInfo = func(t *Task, _ string) (Value, error) { cancel(); return nil, t.Context().Err() }
	if err := mod.NewTask(ctx, TaskOptions{Host: h}).Run(""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
