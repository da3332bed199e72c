package ecs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// Launch is one Fargate task to start (RunTask).
type Launch struct {
	Cluster         string
	TaskDefinition  string // family, family:revision or ARN
	Container       string // the container whose environment Env overrides
	Env             []dockercmd.EnvVar
	Network         Network
	PlatformVersion string // "" = LATEST
	StartedBy       string
	Tags            []dockercmd.EnvVar // key/value pairs, in order
}

// TaskStatus is what DescribeTasks says about one task.
type TaskStatus struct {
	ARN           string
	LastStatus    string // PROVISIONING, PENDING, ACTIVATING, RUNNING, …, STOPPED
	DesiredStatus string
	StoppedReason string
	StopCode      string
	// Containers are "name: reason" or "name: exit code N" for the
	// containers that say why they stopped.
	Containers         []string
	NetworkInterfaceID string // from the ElasticNetworkInterface attachment
	PrivateIP          string // privateIPv4Address of that attachment
}

// Running reports whether the task has reached RUNNING.
func (t *TaskStatus) Running() bool { return t.LastStatus == "RUNNING" }

// Stopped reports whether the task is stopped or on its way there.
func (t *TaskStatus) Stopped() bool {
	switch t.LastStatus {
	case "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED":
		return true
	}
	return false
}

// Why says why the task stopped: its stopped reason, stop code and what
// its containers report.
func (t *TaskStatus) Why() string {
	var parts []string
	r := t.StoppedReason
	if r == "" {
		r = "no reason given"
	}
	if t.StopCode != "" {
		r += " (" + t.StopCode + ")"
	}
	parts = append(parts, r)
	for _, c := range t.Containers {
		parts = append(parts, "container "+c)
	}
	return strings.Join(parts, "; ")
}

// ENI is a task's network interface as EC2 describes it.
type ENI struct {
	ID                    string
	PrivateIP, PublicIP   string
	PrivateDNS, PublicDNS string
}

// RunTask starts one Fargate task and returns its ARN. Failures are *Error
// values naming the cluster and task definition.
func (r *Resolver) RunTask(ctx context.Context, l Launch) (string, error) {
	in := &awsecs.RunTaskInput{
		Cluster:        aws.String(l.Cluster),
		TaskDefinition: aws.String(l.TaskDefinition),
		LaunchType:     ecstypes.LaunchTypeFargate,
		Count:          aws.Int32(1),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets:        slices.Clone(l.Network.Subnets),
			SecurityGroups: slices.Clone(l.Network.SecurityGroups),
			AssignPublicIp: ecstypes.AssignPublicIpDisabled,
		}},
	}
	if l.Network.AssignPublicIP {
		in.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp = ecstypes.AssignPublicIpEnabled
	}
	if l.PlatformVersion != "" {
		in.PlatformVersion = aws.String(l.PlatformVersion)
	}
	if l.StartedBy != "" {
		in.StartedBy = aws.String(l.StartedBy)
	}
	if len(l.Env) > 0 {
		o := ecstypes.ContainerOverride{Name: aws.String(l.Container)}
		for _, e := range l.Env {
			o.Environment = append(o.Environment, ecstypes.KeyValuePair{Name: aws.String(e.Name), Value: aws.String(e.Value)})
		}
		in.Overrides = &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{o}}
	}
	for _, t := range l.Tags {
		in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(t.Name), Value: aws.String(t.Value)})
	}
	what := fmt.Sprintf("run task %q in cluster %q", l.TaskDefinition, l.Cluster)
	out, err := r.ECS.RunTask(ctx, in)
	if err != nil && len(in.Tags) > 0 && isTaggingUnsupported(err) {
		// Accounts without the long ARN format cannot tag tasks; the
		// startedBy marker still identifies the task.
		in.Tags = nil
		out, err = r.ECS.RunTask(ctx, in)
	}
	if err != nil {
		if isClusterNotFound(err) {
			return "", r.listError(ctx, cluster{name: l.Cluster}, err)
		}
		if e := r.translateAuth("ecs:RunTask", err); e != nil {
			if strings.Contains(err.Error(), "iam:PassRole") {
				e.Hint = "the caller needs iam:PassRole for the task's execution and task roles"
			}
			return "", e
		}
		if isClientError(err) {
			return "", &Error{
				Msg:  fmt.Sprintf("%s in region %s: %s", what, r.Region, apiMessage(err)),
				Hint: "the task definition must be Fargate-compatible with network mode awsvpc; check --subnets, --security-groups and --platform-version",
				Err:  err,
			}
		}
		return "", r.translate("ecs:RunTask", what, err)
	}
	if len(out.Tasks) == 0 || str(out.Tasks[0].TaskArn) == "" {
		var reasons []string
		for _, f := range out.Failures {
			s := str(f.Reason)
			if d := str(f.Detail); d != "" {
				s += " (" + d + ")"
			}
			if a := str(f.Arn); a != "" {
				s += " for " + a
			}
			reasons = append(reasons, s)
		}
		if len(reasons) == 0 {
			reasons = append(reasons, "no task and no failure reported")
		}
		return "", &Error{
			Msg:  fmt.Sprintf("%s in region %s: ECS started no task: %s", what, r.Region, strings.Join(reasons, "; ")),
			Hint: "check the subnets' free addresses and the account's Fargate quotas",
		}
	}
	return *out.Tasks[0].TaskArn, nil
}

// isClientError reports a request ECS refused as invalid.
func isClientError(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "ClientException", "InvalidParameterException", "PlatformUnknownException", "PlatformTaskDefinitionIncompatibilityException", "UnsupportedFeatureException":
		return true
	}
	return false
}

func isTaggingUnsupported(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidParameterException" {
		return false
	}
	m := strings.ToLower(apiErr.ErrorMessage())
	return strings.Contains(m, "arn format") && strings.Contains(m, "tag")
}

// DescribeTask returns the status of one task.
func (r *Resolver) DescribeTask(ctx context.Context, clusterName, arn string) (*TaskStatus, error) {
	out, err := r.ECS.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(clusterName), Tasks: []string{arn}})
	if err != nil {
		return nil, r.translate("ecs:DescribeTasks", fmt.Sprintf("describe task %s in cluster %q", arn, clusterName), err)
	}
	for _, t := range out.Tasks {
		if str(t.TaskArn) == arn || strings.HasSuffix(str(t.TaskArn), "/"+arn) {
			return taskStatus(t), nil
		}
	}
	why := "not found"
	if len(out.Failures) > 0 {
		why = str(out.Failures[0].Reason)
	}
	return nil, &Error{Msg: fmt.Sprintf("describe task %s in cluster %q in region %s: %s", arn, clusterName, r.Region, why)}
}

func taskStatus(t ecstypes.Task) *TaskStatus {
	s := &TaskStatus{
		ARN:           str(t.TaskArn),
		LastStatus:    str(t.LastStatus),
		DesiredStatus: str(t.DesiredStatus),
		StoppedReason: str(t.StoppedReason),
		StopCode:      string(t.StopCode),
	}
	for _, c := range t.Containers {
		switch {
		case str(c.Reason) != "":
			s.Containers = append(s.Containers, str(c.Name)+": "+str(c.Reason))
		case c.ExitCode != nil && s.Stopped():
			s.Containers = append(s.Containers, fmt.Sprintf("%s: exit code %d", str(c.Name), *c.ExitCode))
		}
	}
	for _, a := range t.Attachments {
		if str(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		for _, d := range a.Details {
			switch str(d.Name) {
			case "networkInterfaceId":
				s.NetworkInterfaceID = str(d.Value)
			case "privateIPv4Address":
				s.PrivateIP = str(d.Value)
			}
		}
	}
	return s
}

// StopTask stops a task; stopping a task that has already stopped is not
// an error.
func (r *Resolver) StopTask(ctx context.Context, clusterName, arn, reason string) error {
	_, err := r.ECS.StopTask(ctx, &awsecs.StopTaskInput{Cluster: aws.String(clusterName), Task: aws.String(arn), Reason: aws.String(reason)})
	if err != nil {
		e := r.translate("ecs:StopTask", fmt.Sprintf("stop task %s in cluster %q", arn, clusterName), err)
		var ee *Error
		if errors.As(e, &ee) && ee.Hint == "" {
			ee.Hint = fmt.Sprintf("stop it yourself: aws ecs stop-task --region %s --cluster %s --task %s", r.Region, clusterName, arn)
		}
		return e
	}
	return nil
}

// NetworkInterface describes one network interface.
func (r *Resolver) NetworkInterface(ctx context.Context, id string) (*ENI, error) {
	out, err := r.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if err != nil {
		return nil, r.translate("ec2:DescribeNetworkInterfaces", fmt.Sprintf("describe network interface %s", id), err)
	}
	for _, n := range out.NetworkInterfaces {
		if str(n.NetworkInterfaceId) != id {
			continue
		}
		e := &ENI{ID: id, PrivateIP: str(n.PrivateIpAddress), PrivateDNS: str(n.PrivateDnsName)}
		if a := n.Association; a != nil {
			e.PublicIP, e.PublicDNS = str(a.PublicIp), str(a.PublicDnsName)
		}
		return e, nil
	}
	return nil, &Error{Msg: fmt.Sprintf("describe network interface %s in region %s: not found", id, r.Region)}
}

// Waiter polls a task until it runs.
type Waiter struct {
	// First and Max bound the pause between DescribeTasks calls: it starts
	// at First and grows by half up to Max (zero: 500ms and 3s).
	First, Max time.Duration
	// Progress, when not nil, is called with every status the task reaches.
	Progress func(st *TaskStatus)
}

// WaitRunning polls the task until it is RUNNING and returns its status. A
// task that stops first is an *Error with its reasons; when ctx's deadline
// passes the *Error names the last status. A cancelled ctx returns
// ctx.Err() wrapped.
func (r *Resolver) WaitRunning(ctx context.Context, w Waiter, clusterName, arn string) (*TaskStatus, error) {
	pause, most := w.First, w.Max
	if pause <= 0 {
		pause = 500 * time.Millisecond
	}
	if most <= 0 {
		most = 3 * time.Second
	}
	last := ""
	for {
		st, err := r.DescribeTask(ctx, clusterName, arn)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, r.waitEnded(ctx, arn, last)
		case err != nil:
			return nil, err
		}
		if st.LastStatus != last {
			last = st.LastStatus
			if w.Progress != nil {
				w.Progress(st)
			}
		}
		switch {
		case st.Running():
			return st, nil
		case st.Stopped() || st.DesiredStatus == "STOPPED":
			return st, &Error{
				Msg:  fmt.Sprintf("task %s stopped before it was running: %s", taskID(arn), st.Why()),
				Hint: "check the image name, the task's execution role and the container's logs",
			}
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, r.waitEnded(ctx, arn, last)
		case <-t.C:
		}
		pause = min(pause*3/2, most)
	}
}

func (r *Resolver) waitEnded(ctx context.Context, arn, last string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if last == "" {
			last = "unknown"
		}
		return &Error{
			Msg:  fmt.Sprintf("task %s is not running after the wait timeout (last status %s)", taskID(arn), last),
			Hint: "pass a longer --wait-timeout, or check the task in the ECS console",
			Err:  ctx.Err(),
		}
	}
	return fmt.Errorf("wait for task %s: %w", taskID(arn), ctx.Err())
}

// taskID is the last part of a task ARN.
func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// NeedsENI reports whether TaskAddress needs the network interface
// described (DescribeNetworkInterfaces) for this address kind: only the
// private IP is in the task itself.
func NeedsENI(kind string, publicIP bool) bool {
	switch kind {
	case AddressPrivateIP:
		return false
	case "":
		return publicIP
	}
	return true
}

// TaskAddress picks what to dial for a running task: with kind "" the
// public IP when the interface has one, else the private IP; otherwise the
// address of that kind (private-ip, public-ip, private-dns, public-dns).
// eni may be nil when NeedsENI says it is not needed.
func TaskAddress(st *TaskStatus, eni *ENI, kind string) (string, error) {
	private := st.PrivateIP
	if private == "" && eni != nil {
		private = eni.PrivateIP
	}
	var v string
	switch kind {
	case "":
		if eni != nil && eni.PublicIP != "" {
			return eni.PublicIP, nil
		}
		kind, v = AddressPrivateIP, private
	case AddressPrivateIP:
		v = private
	case AddressPublicIP:
		if eni != nil {
			v = eni.PublicIP
		}
	case AddressPrivateDNS:
		if eni != nil {
			v = eni.PrivateDNS
		}
	case AddressPublicDNS:
		if eni != nil {
			v = eni.PublicDNS
		}
	default:
		return "", &Error{
			Msg:  fmt.Sprintf("--address %s does not apply to a Fargate task", kind),
			Hint: "use private-ip, public-ip, private-dns or public-dns",
		}
	}
	if v == "" {
		hint := ""
		if kind == AddressPublicIP || kind == AddressPublicDNS {
			hint = "pass --assign-public-ip (a public subnet is needed), or connect to the private IP from inside the VPC"
		}
		return "", &Error{Msg: fmt.Sprintf("task %s has no %s", taskID(st.ARN), addressWhat[kind]), Hint: hint}
	}
	return v, nil
}
