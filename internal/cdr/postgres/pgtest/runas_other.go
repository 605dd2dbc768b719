//go:build !unix

package pgtest

import (
	"errors"
	"os/exec"
	"os/user"
)

// runAs is only needed where initdb refuses root, which is unix.
type runAs struct{ uid, gid int }

func newRunAs(*user.User) (*runAs, error) {
	return nil, errors.New("running the cluster as another user is not supported here")
}

func (r *runAs) apply(*exec.Cmd) {}
