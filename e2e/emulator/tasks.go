package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TaskRunner starts and stops the containers behind emulated tasks (RunTask).
type TaskRunner interface {
	// Start runs the task and returns the IP address it can be reached at.
	Start(ctx context.Context, t *TaskLaunch) (ip string, err error)
	// Stop stops the task started under id (TaskLaunch.ID).
	Stop(ctx context.Context, id string) error
}

// EnvVar is one container environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TaskLaunch is what a TaskRunner needs to run a task's first container.
type TaskLaunch struct {
	ID                string   `json:"id"` // task id, the last segment of the task ARN
	ARN               string   `json:"arn"`
	Cluster           string   `json:"cluster"`
	TaskDefinitionARN string   `json:"taskDefinitionArn"`
	Container         string   `json:"container"`
	Image             string   `json:"image"`
	Env               []EnvVar `json:"env"`               // definition environment with overrides applied, in order
	Command           []string `json:"command,omitempty"` // override, else the definition's
	StartedBy         string   `json:"startedBy,omitempty"`
	AssignPublicIP    bool     `json:"assignPublicIp"`
}

// TaskInfo is what the emulator recorded about a task, for assertions
// (Server.Tasks, GET /_emulator/tasks).
type TaskInfo struct {
	Launch             TaskLaunch        `json:"launch"`
	LaunchType         string            `json:"launchType"`
	PlatformVersion    string            `json:"platformVersion,omitempty"`
	LastStatus         string            `json:"lastStatus"`
	DesiredStatus      string            `json:"desiredStatus"`
	StoppedReason      string            `json:"stoppedReason,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	Overrides          json.RawMessage   `json:"overrides,omitempty"` // as sent to RunTask
	Subnets            []string          `json:"subnets,omitempty"`
	SecurityGroups     []string          `json:"securityGroups,omitempty"`
	IP                 string            `json:"ip,omitempty"` // reported by the runner
	NetworkInterfaceID string            `json:"networkInterfaceId,omitempty"`
	RunnerStopped      bool              `json:"runnerStopped"` // Stop was called on the runner
	RunnerError        string            `json:"runnerError,omitempty"`
}

// startWait bounds how long DescribeTasks waits for a runner that is still
// starting a task before answering with the task still PROVISIONING.
const startWait = 2 * time.Second

type awsvpcConfiguration struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"`
}

type containerOverride struct {
	Name        string   `json:"name"`
	Command     []string `json:"command"`
	Environment []EnvVar `json:"environment"`
}

type taskContainer struct {
	Name        string   `json:"name"`
	Image       string   `json:"image"`
	Command     []string `json:"command"`
	Environment []EnvVar `json:"environment"`
}

type task struct {
	seq        int
	info       TaskInfo
	family     string
	containers []taskContainer
	tags       []tag
	shown      int // DescribeTasks answers showing the current status
	attachID   string
	eni        NetworkInterface
	createdAt  time.Time
	startedAt  time.Time
	stoppedAt  time.Time
	stopCode   string
	reason     string // container reason
	started    chan struct{}
	startErr   error
	ctx        context.Context // of the runner's Start; cancelled by stop
	cancel     context.CancelFunc
}

// SetRunner sets the runner of tasks started from now on; nil (the
// default) runs nothing and invents addresses.
func (s *Server) SetRunner(r TaskRunner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runner = r
}

// Tasks returns what was recorded about every task started so far.
func (s *Server) Tasks() []TaskInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []TaskInfo{}
	for _, t := range s.tasks {
		out = append(out, t.info)
	}
	return out
}

// Close stops the runner's tasks that are not stopped yet.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	var live []*task
	for _, t := range s.tasks {
		if t.info.LastStatus != "STOPPED" {
			live = append(live, t)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, t := range live {
		errs = append(errs, s.stop(ctx, t, "emulator shut down"))
	}
	return errors.Join(errs...)
}

func (s *Server) taskCounts(cluster string) (running, pending int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		if t.info.Launch.Cluster != cluster {
			continue
		}
		switch t.info.LastStatus {
		case "RUNNING":
			running++
		case "PROVISIONING", "PENDING":
			pending++
		}
	}
	return running, pending
}

func (s *Server) taskSteps() int {
	if s.st.TaskSteps == nil {
		return 1
	}
	return max(0, *s.st.TaskSteps)
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func (s *Server) runTask(body []byte) (any, error) {
	var in struct {
		Cluster              string `json:"cluster"`
		TaskDefinition       string `json:"taskDefinition"`
		Count                *int   `json:"count"`
		LaunchType           string `json:"launchType"`
		PlatformVersion      string `json:"platformVersion"`
		StartedBy            string `json:"startedBy"`
		Group                string `json:"group"`
		NetworkConfiguration *struct {
			AwsvpcConfiguration *awsvpcConfiguration `json:"awsvpcConfiguration"`
		} `json:"networkConfiguration"`
		Overrides json.RawMessage `json:"overrides"`
		Tags      []tag           `json:"tags"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	td := s.st.findTaskDef(in.TaskDefinition)
	if td == nil {
		return nil, errf("InvalidParameterException", "TaskDefinition not found.")
	}
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	if count < 1 || count > 10 {
		return nil, errf("InvalidParameterException", "count must be between 1 and 10.")
	}
	if len(in.StartedBy) > 128 {
		return nil, errf("InvalidParameterException", "startedBy must be at most 128 characters.")
	}
	if in.LaunchType == "" {
		in.LaunchType = "EC2"
	}
	var compat []string
	_ = unmarshalOpt(td.raw, "requiresCompatibilities", &compat)
	if len(compat) > 0 && !slices.Contains(compat, in.LaunchType) {
		return nil, errf("ClientException", "Task definition does not support launch_type %s.", in.LaunchType)
	}
	var networkMode string
	_ = unmarshalOpt(td.raw, "networkMode", &networkMode)
	var vpc awsvpcConfiguration
	if in.NetworkConfiguration != nil && in.NetworkConfiguration.AwsvpcConfiguration != nil {
		vpc = *in.NetworkConfiguration.AwsvpcConfiguration
	}
	if (networkMode == "awsvpc" || in.LaunchType == "FARGATE") && len(vpc.Subnets) == 0 {
		return nil, errf("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	var containers []taskContainer
	if err := json.Unmarshal(td.raw["containerDefinitions"], &containers); err != nil || len(containers) == 0 {
		return nil, errf("ClientException", "Task definition %s has no usable container definitions.", td.arn)
	}
	var overrides struct {
		ContainerOverrides []containerOverride `json:"containerOverrides"`
	}
	if len(in.Overrides) > 0 {
		if err := json.Unmarshal(in.Overrides, &overrides); err != nil {
			return nil, errf("SerializationException", "cannot decode overrides: %v", err)
		}
	}
	for _, o := range overrides.ContainerOverrides {
		if !slices.ContainsFunc(containers, func(c taskContainer) bool { return c.Name == o.Name }) {
			return nil, errf("InvalidParameterException", "Override for container named %s is not a container in the TaskDefinition.", o.Name)
		}
	}
	if in.LaunchType == "FARGATE" && in.PlatformVersion == "" {
		in.PlatformVersion = "1.4.0"
	}

	first := containers[0]
	env := append([]EnvVar{}, first.Environment...)
	cmd := first.Command
	for _, o := range overrides.ContainerOverrides {
		if o.Name != first.Name {
			continue
		}
		for _, kv := range o.Environment {
			if i := slices.IndexFunc(env, func(e EnvVar) bool { return e.Name == kv.Name }); i >= 0 {
				env[i].Value = kv.Value
			} else {
				env = append(env, kv)
			}
		}
		if o.Command != nil {
			cmd = o.Command
		}
	}
	tags := map[string]string{}
	for _, tg := range in.Tags {
		tags[tg.Key] = tg.Value
	}
	if in.Group == "" {
		in.Group = "family:" + td.family
	}

	s.mu.Lock()
	runner := s.runner
	var started []*task
	for range count {
		id := randomHex(32)
		arn := s.st.arn("task/" + c.Name + "/" + id)
		t := &task{
			seq: len(s.tasks) + 1, family: td.family, containers: containers, tags: in.Tags,
			attachID:  randomHex(8) + "-" + randomHex(4) + "-" + randomHex(4) + "-" + randomHex(4) + "-" + randomHex(12),
			createdAt: time.Now(), started: make(chan struct{}),
			info: TaskInfo{
				Launch: TaskLaunch{
					ID: id, ARN: arn, Cluster: c.Name, TaskDefinitionARN: td.arn, Container: first.Name,
					Image: first.Image, Env: env, Command: cmd, StartedBy: in.StartedBy,
					AssignPublicIP: vpc.AssignPublicIP == "ENABLED",
				},
				LaunchType: in.LaunchType, PlatformVersion: in.PlatformVersion,
				LastStatus: "PROVISIONING", DesiredStatus: "RUNNING",
				Tags: tags, Overrides: in.Overrides, Subnets: vpc.Subnets, SecurityGroups: vpc.SecurityGroups,
			},
		}
		if len(vpc.Subnets) > 0 {
			t.eni = NetworkInterface{ID: "eni-" + randomHex(17), Status: "in-use", SubnetID: vpc.Subnets[0],
				MacAddress: fmt.Sprintf("0e:50:d1:c1:%02x:%02x", t.seq/256%256, t.seq%256)}
			t.info.NetworkInterfaceID = t.eni.ID
		}
		t.ctx, t.cancel = context.WithCancel(context.Background())
		s.tasks = append(s.tasks, t)
		started = append(started, t)
	}
	s.mu.Unlock()

	out := struct {
		Tasks    []any     `json:"tasks"`
		Failures []failure `json:"failures"`
	}{Tasks: []any{}, Failures: []failure{}}
	for _, t := range started {
		launch := t.info.Launch
		go s.start(t.ctx, runner, t, &launch)
		out.Tasks = append(out.Tasks, s.taskJSON(t, false))
	}
	return out, nil
}

// start runs t with the runner and records the outcome.
func (s *Server) start(ctx context.Context, r TaskRunner, t *task, launch *TaskLaunch) {
	var ip string
	var err error
	if r != nil {
		ip, err = r.Start(ctx, launch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.info.IP, t.startErr = ip, err
	if err != nil {
		t.info.RunnerError = err.Error()
	}
	close(t.started)
}

// fakeIP invents an address from a /16 prefix and the task's number.
// fakeIP invents an address inside 127.0.0.0/8, so that a client dialing an
// address the runner did not give can only ever reach loopback.
func fakeIP(prefix string, seq int) string {
	return prefix + "." + strconv.Itoa(seq/250%250) + "." + strconv.Itoa(seq%250+2)
}

// advance moves t one DescribeTasks answer along PROVISIONING → PENDING →
// RUNNING; s.mu is held.
func (s *Server) advance(t *task) {
	steps := s.taskSteps()
	for {
		switch t.info.LastStatus {
		case "PROVISIONING":
			select {
			case <-t.started:
				if t.startErr != nil {
					s.markStopped(t, "TaskFailedToStart", "Task failed to start", "CannotStartContainerError: "+t.startErr.Error())
					return
				}
			default:
				if t.shown < steps {
					t.shown++
				}
				return // the runner is not done yet
			}
			if t.shown < steps {
				t.shown++
				return
			}
			s.attach(t)
			t.info.LastStatus, t.shown = "PENDING", 0
		case "PENDING":
			if t.shown < steps {
				t.shown++
				return
			}
			t.info.LastStatus, t.startedAt = "RUNNING", time.Now()
			return
		default:
			return
		}
	}
}

// attach gives t's network interface its addresses; s.mu is held.
func (s *Server) attach(t *task) {
	if t.eni.ID == "" {
		return
	}
	ip := t.info.IP
	if t.info.Launch.AssignPublicIP {
		t.eni.PrivateIP = fakeIP("127.1", t.seq)
		t.eni.PublicIP = ip
		if ip == "" {
			t.eni.PublicIP = fakeIP("127.2", t.seq)
		}
		t.eni.PublicDNS = "ec2-" + strings.ReplaceAll(t.eni.PublicIP, ".", "-") + ".compute-1.amazonaws.com"
	} else {
		t.eni.PrivateIP = ip
		if ip == "" {
			t.eni.PrivateIP = fakeIP("127.1", t.seq)
		}
	}
	t.eni.PrivateDNS = "ip-" + strings.ReplaceAll(t.eni.PrivateIP, ".", "-") + ".ec2.internal"
	s.enis = append(s.enis, t.eni)
}

// markStopped records that t stopped; s.mu is held.
func (s *Server) markStopped(t *task, code, reason, containerReason string) {
	t.info.LastStatus, t.info.DesiredStatus = "STOPPED", "STOPPED"
	t.info.StoppedReason, t.stopCode, t.reason = reason, code, containerReason
	t.stoppedAt = time.Now()
	s.enis = slices.DeleteFunc(s.enis, func(n NetworkInterface) bool { return n.ID == t.eni.ID })
}

// stop marks t stopped and stops its container once the runner has
// started it.
func (s *Server) stop(ctx context.Context, t *task, reason string) error {
	s.mu.Lock()
	if t.info.LastStatus == "STOPPED" {
		s.mu.Unlock()
		return nil
	}
	s.markStopped(t, "UserInitiated", reason, "")
	runner := s.runner
	s.mu.Unlock()
	t.cancel()
	select {
	case <-t.started:
	case <-ctx.Done():
		return fmt.Errorf("stop task %s: %w", t.info.Launch.ID, ctx.Err())
	}
	if runner == nil || t.startErr != nil {
		return nil
	}
	err := runner.Stop(ctx, t.info.Launch.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	t.info.RunnerStopped = true
	if err != nil {
		t.info.RunnerError = err.Error()
		return fmt.Errorf("stop task %s: %w", t.info.Launch.ID, err)
	}
	return nil
}

func (s *Server) findTask(cluster, ref string) *task {
	id := ref[strings.LastIndex(ref, "/")+1:]
	for _, t := range s.tasks {
		if t.info.Launch.Cluster == cluster && (t.info.Launch.ID == id) && (!strings.HasPrefix(ref, "arn:") || ref == t.info.Launch.ARN) {
			return t
		}
	}
	return nil
}

func (s *Server) describeTasks(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
		Include []string `json:"include"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, errf("InvalidParameterException", "tasks must contain between 1 and 100 elements.")
	}
	s.mu.Lock()
	var found []*task
	for _, ref := range in.Tasks {
		found = append(found, s.findTask(c.Name, ref))
	}
	s.mu.Unlock()
	// Give a runner that is still starting a task a moment, so that fast
	// runners make tasks progress at every DescribeTasks.
	for _, t := range found {
		if t == nil {
			continue
		}
		timer := time.NewTimer(startWait)
		select {
		case <-t.started:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	out := struct {
		Tasks    []any     `json:"tasks"`
		Failures []failure `json:"failures"`
	}{Tasks: []any{}, Failures: []failure{}}
	withTags := slices.Contains(in.Include, "TAGS")
	for i, t := range found {
		if t == nil {
			arn := in.Tasks[i]
			if !strings.HasPrefix(arn, "arn:") {
				arn = s.st.arn("task/" + c.Name + "/" + arn)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		s.mu.Lock()
		s.advance(t)
		s.mu.Unlock()
		out.Tasks = append(out.Tasks, s.taskJSON(t, withTags))
	}
	return out, nil
}

func (s *Server) stopTask(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Cluster string `json:"cluster"`
		Task    string `json:"task"`
		Reason  string `json:"reason"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	t := s.findTask(c.Name, in.Task)
	s.mu.Unlock()
	if t == nil {
		return nil, errf("InvalidParameterException", "The referenced task was not found.")
	}
	if in.Reason == "" {
		in.Reason = "Task stopped by user"
	}
	// A runner failure is recorded in the task (RunnerError), not turned
	// into an API error: AWS has stopped the task either way.
	_ = s.stop(ctx, t, in.Reason)
	return map[string]any{"task": s.taskJSON(t, false)}, nil
}

func (s *Server) listTasks(body []byte) (any, error) {
	var in struct {
		Cluster       string  `json:"cluster"`
		Family        string  `json:"family"`
		DesiredStatus string  `json:"desiredStatus"`
		StartedBy     string  `json:"startedBy"`
		LaunchType    string  `json:"launchType"`
		MaxResults    *int    `json:"maxResults"`
		NextToken     *string `json:"nextToken"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.DesiredStatus == "" {
		in.DesiredStatus = "RUNNING"
	}
	s.mu.Lock()
	var matched []string
	for _, t := range s.tasks {
		i := t.info
		if i.Launch.Cluster == c.Name && i.DesiredStatus == in.DesiredStatus &&
			(in.Family == "" || t.family == in.Family) && (in.StartedBy == "" || i.Launch.StartedBy == in.StartedBy) &&
			(in.LaunchType == "" || i.LaunchType == in.LaunchType) {
			matched = append(matched, i.Launch.ARN)
		}
	}
	s.mu.Unlock()
	start, end, next, err := s.page(len(matched), in.MaxResults, in.NextToken, "InvalidParameterException")
	if err != nil {
		return nil, err
	}
	return withNext(map[string]any{"taskArns": append([]string{}, matched[start:end]...)}, next), nil
}

func epoch(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMilli()) / 1000
}

// taskJSON renders t in the AWS Task shape.
func (s *Server) taskJSON(t *task, withTags bool) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := t.info
	attachments := []any{}
	var netIfs []any
	if t.eni.ID != "" {
		status, details := "PRECREATED", []map[string]string{{"name": "subnetId", "value": t.eni.SubnetID}}
		switch {
		case i.LastStatus == "STOPPED":
			status = "DELETED"
		case t.eni.PrivateIP != "":
			status = map[string]string{"PENDING": "ATTACHING", "RUNNING": "ATTACHED"}[i.LastStatus]
		}
		if t.eni.PrivateIP != "" {
			details = append(details,
				map[string]string{"name": "networkInterfaceId", "value": t.eni.ID},
				map[string]string{"name": "macAddress", "value": t.eni.MacAddress},
				map[string]string{"name": "privateDnsName", "value": t.eni.PrivateDNS},
				map[string]string{"name": "privateIPv4Address", "value": t.eni.PrivateIP})
			netIfs = append(netIfs, map[string]string{"attachmentId": t.attachID, "privateIpv4Address": t.eni.PrivateIP})
		}
		attachments = append(attachments, map[string]any{"id": t.attachID, "type": "ElasticNetworkInterface", "status": status, "details": details})
	}
	containers := []any{}
	for _, c := range t.containers {
		cs := map[string]any{
			"containerArn": s.st.arn("container/" + i.Launch.Cluster + "/" + i.Launch.ID + "/" + c.Name),
			"taskArn":      i.Launch.ARN, "name": c.Name, "image": c.Image,
			"lastStatus":        map[string]string{"PROVISIONING": "PENDING", "PENDING": "PENDING"}[i.LastStatus],
			"networkInterfaces": []any{}, "networkBindings": []any{},
		}
		if cs["lastStatus"] == "" {
			cs["lastStatus"] = i.LastStatus
		}
		if netIfs != nil {
			cs["networkInterfaces"] = netIfs
		}
		if c.Name == i.Launch.Container && t.reason != "" {
			cs["reason"] = t.reason
		}
		containers = append(containers, cs)
	}
	out := map[string]any{
		"taskArn": i.Launch.ARN, "clusterArn": s.st.arn("cluster/" + i.Launch.Cluster),
		"taskDefinitionArn": i.Launch.TaskDefinitionARN, "lastStatus": i.LastStatus, "desiredStatus": i.DesiredStatus,
		"launchType": i.LaunchType, "group": "family:" + t.family, "createdAt": epoch(t.createdAt),
		"attachments": attachments, "containers": containers, "version": 1,
		"availabilityZone": s.st.Region + "a", "connectivity": "CONNECTED",
	}
	if i.PlatformVersion != "" {
		out["platformVersion"] = i.PlatformVersion
		out["platformFamily"] = "Linux"
	}
	if i.Launch.StartedBy != "" {
		out["startedBy"] = i.Launch.StartedBy
	}
	if len(i.Overrides) > 0 {
		out["overrides"] = i.Overrides
	} else {
		out["overrides"] = map[string]any{"containerOverrides": []any{}, "inferenceAcceleratorOverrides": []any{}}
	}
	if !t.startedAt.IsZero() {
		out["startedAt"] = epoch(t.startedAt)
	}
	if i.LastStatus == "STOPPED" {
		out["stoppedReason"] = i.StoppedReason
		out["stopCode"] = t.stopCode
		out["stoppingAt"] = epoch(t.stoppedAt)
		out["stoppedAt"] = epoch(t.stoppedAt)
	}
	if withTags {
		tags := t.tags
		if tags == nil {
			tags = []tag{}
		}
		out["tags"] = tags
	}
	return out
}
