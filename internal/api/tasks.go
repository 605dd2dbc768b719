package api

import (
	"errors"
	"net/http"

	"github.com/ringo-pbx/ringo/internal/pbx"
)

// Tasks is what the API needs of the task manager.
type Tasks interface {
	Tasks() []pbx.TaskInfo
	Kill(id string) error
}

// WithTasks serves the running tasks from t.
func (s *Server) WithTasks(t Tasks) *Server {
	s.tasks = t
	return s
}

// listTasks lists the running tasks, oldest first.
func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) {
	if s.tasks == nil {
		writeJSON(w, http.StatusOK, []pbx.TaskInfo{})
		return
	}
	writeJSON(w, http.StatusOK, s.tasks.Tasks())
}

// killTask ends a task; its call, if it still holds one, is released.
func (s *Server) killTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.tasks == nil {
		writeError(w, http.StatusNotFound, "no such task "+id)
		return
	}
	if err := s.tasks.Kill(id); err != nil {
		if errors.Is(err, pbx.ErrNoTask) {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
