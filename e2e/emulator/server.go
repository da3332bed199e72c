// Package emulator is a small in-process emulation of the ECS and EC2 APIs
// (and of the SSM, Secrets Manager and S3 reads behind task-definition
// secrets) for end-to-end tests and benchmarks of ssh-ecs-run-task.
//
// It speaks the real wire protocols (ECS awsJson1_1, EC2 query with XML
// responses) well enough that the unmodified aws-sdk-go-v2 clients work
// against it when AWS_ENDPOINT_URL (or BaseEndpoint) points at it. One URL
// serves every service: requests with an X-Amz-Target header are ECS, SSM
// (AmazonSSM.*) or Secrets Manager (secretsmanager.*), form-encoded requests
// with an Action are EC2, and other GETs of /bucket/key are S3 GetObject. Signatures are not checked.
// State comes from a JSON fixture (LoadState); faults (latency, throttling,
// server errors) can be injected per operation, and every call is logged.
//
// It is test infrastructure: it must never talk to real AWS, and it only
// implements the operations and members the tool uses.
package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const ecsTargetPrefix = "AmazonEC2ContainerServiceV20141113."

// Call is one API request received by the emulator.
type Call struct {
	Service string     `json:"service"` // "ecs", "ec2", "ssm", "secretsmanager" or "s3"
	Op      string     `json:"op"`
	Body    string     `json:"body"`             // raw request body (JSON for ECS, form for EC2)
	Params  url.Values `json:"params,omitempty"` // decoded form (EC2), Bucket and Key (S3)
	Status  int        `json:"status"`           // HTTP status returned
	Error   string     `json:"error,omitempty"`  // error code returned, if any
}

// Fault is injected into calls of one operation (or every operation).
type Fault struct {
	// Latency delays every call by this long before it is handled.
	Latency time.Duration `json:"latency,omitempty"`
	// Throttle makes the next Throttle calls fail with ThrottlingException
	// (ECS) or RequestLimitExceeded (EC2).
	Throttle int `json:"throttle,omitempty"`
	// ServerError makes the next ServerError calls fail with HTTP 500.
	ServerError int `json:"serverError,omitempty"`
}

// UnmarshalJSON accepts Latency as a Go duration string ("250ms") or as
// nanoseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var v struct {
		Latency     json.RawMessage `json:"latency"`
		Throttle    int             `json:"throttle"`
		ServerError int             `json:"serverError"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*f = Fault{Throttle: v.Throttle, ServerError: v.ServerError}
	if len(v.Latency) == 0 || string(v.Latency) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(v.Latency, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
		return nil
	}
	var n int64
	if err := json.Unmarshal(v.Latency, &n); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	f.Latency = time.Duration(n)
	return nil
}

// Server emulates ECS and EC2 over HTTP. It is an http.Handler; use New.
type Server struct {
	st     *State
	runner TaskRunner

	mu     sync.Mutex
	calls  []Call
	faults map[string]*Fault
	tasks  []*task
	enis   []NetworkInterface
}

// New returns a Server for the state st, which it owns from now on.
func New(st *State) *Server {
	return &Server{st: st, faults: map[string]*Fault{}}
}

// Calls returns a copy of the calls received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the calls received so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// SetFault sets the fault for an operation name such as "ListClusters";
// op "*" applies to every operation without a fault of its own. A zero
// Fault removes it.
func (s *Server) SetFault(op string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, op)
		return
	}
	s.faults[op] = &f
}

// ServeHTTP routes control requests (/_emulator/...), ECS and EC2 calls.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.serveControl(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		switch {
		case strings.HasPrefix(target, ssmTargetPrefix):
			s.serveJSON(r.Context(), w, "ssm", strings.TrimPrefix(target, ssmTargetPrefix), body)
		case strings.HasPrefix(target, secretsTargetPrefix):
			s.serveJSON(r.Context(), w, "secretsmanager", strings.TrimPrefix(target, secretsTargetPrefix), body)
		default:
			s.serveECS(r.Context(), w, strings.TrimPrefix(target, ecsTargetPrefix), body)
		}
		return
	}
	if isS3(r) {
		s.serveS3(r.Context(), w, r)
		return
	}
	params, err := url.ParseQuery(string(body))
	if err != nil || params.Get("Action") == "" {
		params = r.URL.Query()
	}
	s.serveEC2(r.Context(), w, params, body)
}

// begin records a call and applies the operation's fault; it returns the
// fault kind to answer with ("" = none), after any latency.
func (s *Server) begin(ctx context.Context, service, op string, body []byte, params url.Values) (idx int, fault string) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: service, Op: op, Body: string(body), Params: params})
	idx = len(s.calls) - 1
	f := s.faults[op]
	if f == nil {
		f = s.faults["*"]
	}
	var latency time.Duration
	if f != nil {
		latency = f.Latency
		switch {
		case f.Throttle > 0:
			f.Throttle--
			fault = "throttle"
		case f.ServerError > 0:
			f.ServerError--
			fault = "server"
		}
	}
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return idx, fault
}

func (s *Server) finish(idx, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx < len(s.calls) {
		s.calls[idx].Status = status
		s.calls[idx].Error = code
	}
}

// apiError is an AWS error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	writeJSON := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	switch {
	case r.URL.Path == "/_emulator/calls" && r.Method == http.MethodGet:
		calls := s.Calls()
		if calls == nil {
			calls = []Call{}
		}
		writeJSON(calls)
	case r.URL.Path == "/_emulator/reset-calls" && r.Method == http.MethodPost:
		s.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/faults" && r.Method == http.MethodPost:
		var faults map[string]Fault
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&faults); err != nil {
			http.Error(w, "decode faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		for op, f := range faults {
			s.SetFault(op, f)
		}
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/tasks" && r.Method == http.MethodGet:
		writeJSON(s.Tasks())
	default:
		http.Error(w, "unknown control request "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// serveECS answers one awsJson1_1 request.
func (s *Server) serveECS(ctx context.Context, w http.ResponseWriter, op string, body []byte) {
	idx, fault := s.begin(ctx, "ecs", op, body, nil)
	var out any
	var err error
	switch fault {
	case "throttle":
		err = errf("ThrottlingException", "Rate exceeded")
	case "server":
		err = &apiError{status: http.StatusInternalServerError, code: "ServerException", message: "Service Unavailable. Please try again later."}
	default:
		out, err = s.ecsOp(ctx, op, body)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID())
	if err != nil {
		ae, ok := err.(*apiError)
		if !ok {
			ae = &apiError{status: http.StatusInternalServerError, code: "ServerException", message: err.Error()}
		}
		s.finish(idx, ae.status, ae.code)
		w.WriteHeader(ae.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.code, "message": ae.message})
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		s.finish(idx, http.StatusInternalServerError, "ServerException")
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ServerException", "message": err.Error()})
		return
	}
	s.finish(idx, http.StatusOK, "")
	_, _ = w.Write(buf.Bytes())
}

// serveEC2 answers one EC2 query request.
func (s *Server) serveEC2(ctx context.Context, w http.ResponseWriter, params url.Values, body []byte) {
	op := params.Get("Action")
	idx, fault := s.begin(ctx, "ec2", op, body, params)
	reqID := requestID()
	var out any
	var err error
	switch fault {
	case "throttle":
		err = &apiError{status: http.StatusServiceUnavailable, code: "RequestLimitExceeded", message: "Request limit exceeded."}
	case "server":
		err = &apiError{status: http.StatusInternalServerError, code: "InternalError", message: "An internal error has occurred"}
	default:
		out, err = s.ec2Op(op, params, reqID)
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	if err != nil {
		ae, ok := err.(*apiError)
		if !ok {
			ae = &apiError{status: http.StatusInternalServerError, code: "InternalError", message: err.Error()}
		}
		s.finish(idx, ae.status, ae.code)
		w.WriteHeader(ae.status)
		_, _ = io.WriteString(w, ec2ErrorXML(ae, reqID))
		return
	}
	b, err := marshalXML(out)
	if err != nil {
		ae := &apiError{status: http.StatusInternalServerError, code: "InternalError", message: err.Error()}
		s.finish(idx, ae.status, ae.code)
		w.WriteHeader(ae.status)
		_, _ = io.WriteString(w, ec2ErrorXML(ae, reqID))
		return
	}
	s.finish(idx, http.StatusOK, "")
	_, _ = w.Write(b)
}
