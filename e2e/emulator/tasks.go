package emulator

import "context"

// TaskRunner starts and stops the containers of emulated tasks.
type TaskRunner interface {
	// Start runs the task and returns the IP address it listens on.
	Start(ctx context.Context, t *TaskLaunch) (ip string, err error)
	// Stop stops the task started under id (TaskLaunch.ID).
	Stop(ctx context.Context, id string) error
}

// TaskLaunch is what a TaskRunner needs to run one task.
type TaskLaunch struct {
	ID string
}

type task struct{}

// TaskInfo describes a task for the control endpoint.
type TaskInfo struct{}

// Tasks returns the tasks started so far.
func (s *Server) Tasks() []TaskInfo { return []TaskInfo{} }

func (s *Server) taskCounts(cluster string) (running, pending int) { return 0, 0 }

func (s *Server) runTask(body []byte) (any, error) {
	return nil, errf("UnknownOperationException", "Unknown operation RunTask")
}
func (s *Server) describeTasks(ctx context.Context, body []byte) (any, error) {
	return nil, errf("UnknownOperationException", "Unknown operation DescribeTasks")
}
func (s *Server) stopTask(ctx context.Context, body []byte) (any, error) {
	return nil, errf("UnknownOperationException", "Unknown operation StopTask")
}
func (s *Server) listTasks(body []byte) (any, error) {
	return nil, errf("UnknownOperationException", "Unknown operation ListTasks")
}
