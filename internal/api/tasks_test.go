package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ringo-pbx/ringo/internal/pbx"
)

type fakeTasks struct{ live map[string]pbx.TaskInfo }

func (f *fakeTasks) Tasks() []pbx.TaskInfo {
	var out []pbx.TaskInfo
	for _, t := range f.live {
		out = append(out, t)
	}
	return out
}

func (f *fakeTasks) Kill(id string) error {
	if _, ok := f.live[id]; !ok {
		return fmt.Errorf("%w: %s", pbx.ErrNoTask, id)
	}
	delete(f.live, id)
	return nil
}

func TestTasks(t *testing.T) {
	e := newEnv(t)
	var empty []pbx.TaskInfo
	r := e.do("GET", "/api/v1/tasks", "")
	wantCode(t, r, 200)
	r.json(t, &empty)
	if len(empty) != 0 {
		t.Fatalf("tasks without a manager: %s", r.body)
	}
	ft := &fakeTasks{live: map[string]pbx.TaskInfo{"t1": {ID: "t1", App: "pbx", Owner: "pbx@a.test", Mode: "connected", Started: time.Now()}}}
	e.api.WithTasks(ft)
	var list []pbx.TaskInfo
	r = e.do("GET", "/api/v1/tasks", "")
	wantCode(t, r, 200)
	r.json(t, &list)
	if len(list) != 1 || list[0].App != "pbx" {
		t.Fatalf("tasks: %s", r.body)
	}
	wantCode(t, e.do("DELETE", "/api/v1/tasks/t1", ""), 204)
	wantCode(t, e.do("DELETE", "/api/v1/tasks/t1", ""), 404)
	wantCode(t, e.doAuth("GET", "/api/v1/tasks", "", ""), 401)
}
