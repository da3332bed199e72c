package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// The EC2-mode fakes do not run tasks.

func (f *fakeECS) RunTask(context.Context, *awsecs.RunTaskInput, ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error) {
	return nil, fmt.Errorf("RunTask: %w", errUnexpected)
}

func (f *fakeECS) DescribeTasks(context.Context, *awsecs.DescribeTasksInput, ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error) {
	return nil, fmt.Errorf("DescribeTasks: %w", errUnexpected)
}

func (f *fakeECS) StopTask(context.Context, *awsecs.StopTaskInput, ...func(*awsecs.Options)) (*awsecs.StopTaskOutput, error) {
	return nil, fmt.Errorf("StopTask: %w", errUnexpected)
}

func (f *fakeEC2) DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return nil, fmt.Errorf("DescribeNetworkInterfaces: %w", errUnexpected)
}

// fargateECS adds the task calls to fakeECS; a nil field fails the call.
type fargateECS struct {
	fakeECS
	runTask       func(context.Context, *awsecs.RunTaskInput) (*awsecs.RunTaskOutput, error)
	describeTasks func(context.Context, *awsecs.DescribeTasksInput) (*awsecs.DescribeTasksOutput, error)
	stopTask      func(context.Context, *awsecs.StopTaskInput) (*awsecs.StopTaskOutput, error)
}

func (f *fargateECS) RunTask(ctx context.Context, in *awsecs.RunTaskInput, _ ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error) {
	if f.runTask == nil {
		return nil, fmt.Errorf("RunTask: %w", errUnexpected)
	}
	return f.runTask(ctx, in)
}

func (f *fargateECS) DescribeTasks(ctx context.Context, in *awsecs.DescribeTasksInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error) {
	if f.describeTasks == nil {
		return nil, fmt.Errorf("DescribeTasks: %w", errUnexpected)
	}
	return f.describeTasks(ctx, in)
}

func (f *fargateECS) StopTask(ctx context.Context, in *awsecs.StopTaskInput, _ ...func(*awsecs.Options)) (*awsecs.StopTaskOutput, error) {
	if f.stopTask == nil {
		return nil, fmt.Errorf("StopTask: %w", errUnexpected)
	}
	return f.stopTask(ctx, in)
}

// fargateEC2 adds DescribeNetworkInterfaces to fakeEC2.
type fargateEC2 struct {
	fakeEC2
	describeNetworkInterfaces func(context.Context, *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error)
}

func (f *fargateEC2) DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	if f.describeNetworkInterfaces == nil {
		return nil, fmt.Errorf("DescribeNetworkInterfaces: %w", errUnexpected)
	}
	return f.describeNetworkInterfaces(ctx, in)
}

const testTaskARN = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef"

func TestRunTaskInput(t *testing.T) {
	var got *awsecs.RunTaskInput
	f := &fargateECS{runTask: func(_ context.Context, in *awsecs.RunTaskInput) (*awsecs.RunTaskOutput, error) {
		got = in
		return &awsecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(testTaskARN)}}}, nil
	}}
	r := &Resolver{ECS: f, Region: "us-east-1"}
	arn, err := r.RunTask(context.Background(), Launch{
		Cluster: "prod", TaskDefinition: "arn:td/ssh-login:1", Container: "sshd",
		Env:             []dockercmd.EnvVar{{Name: "SSH_AUTHORIZED_KEYS", Value: "ssh-ed25519 AAAA"}, {Name: "SSH_HOST_ED25519_KEY", Value: "-----BEGIN…"}},
		Network:         Network{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: true},
		PlatformVersion: "1.4.0", StartedBy: "ssh-ecs-run-task",
		Tags: []dockercmd.EnvVar{{Name: "ssh-ecs-run-task", Value: "alice"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if arn != testTaskARN {
		t.Errorf("arn = %q", arn)
	}
	type view struct {
		Cluster, TD, LaunchType, Platform, StartedBy, Public string
		Count                                                int32
		Subnets, SGs, Env, Tags                              []string
		Container                                            string
	}
	v := view{
		Cluster: *got.Cluster, TD: *got.TaskDefinition, LaunchType: string(got.LaunchType), Platform: aws.ToString(got.PlatformVersion),
		StartedBy: aws.ToString(got.StartedBy), Public: string(got.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp),
		Count: aws.ToInt32(got.Count), Subnets: got.NetworkConfiguration.AwsvpcConfiguration.Subnets,
		SGs: got.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups, Container: *got.Overrides.ContainerOverrides[0].Name,
	}
	for _, e := range got.Overrides.ContainerOverrides[0].Environment {
		v.Env = append(v.Env, *e.Name+"="+*e.Value)
	}
	for _, tg := range got.Tags {
		v.Tags = append(v.Tags, *tg.Key+"="+*tg.Value)
	}
	want := view{
		Cluster: "prod", TD: "arn:td/ssh-login:1", LaunchType: "FARGATE", Platform: "1.4.0", StartedBy: "ssh-ecs-run-task",
		Public: "ENABLED", Count: 1, Subnets: []string{"subnet-1", "subnet-2"}, SGs: []string{"sg-1"},
		Env: []string{"SSH_AUTHORIZED_KEYS=ssh-ed25519 AAAA", "SSH_HOST_ED25519_KEY=-----BEGIN…"}, Tags: []string{"ssh-ecs-run-task=alice"},
		Container: "sshd",
	}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("RunTask input (-want +got):\n%s", d)
	}

	// No public IP, no platform version: DISABLED and LATEST (unset).
	if _, err := r.RunTask(context.Background(), Launch{Cluster: "prod", TaskDefinition: "td", Network: Network{Subnets: []string{"s"}}}); err != nil {
		t.Fatal(err)
	}
	if p := got.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp; p != ecstypes.AssignPublicIpDisabled {
		t.Errorf("AssignPublicIp = %q, want DISABLED", p)
	}
	if got.PlatformVersion != nil || got.Overrides != nil {
		t.Errorf("PlatformVersion = %v, Overrides = %v; want both unset", got.PlatformVersion, got.Overrides)
	}
}

func TestRunTaskErrors(t *testing.T) {
	tests := []struct {
		name     string
		run      func(calls int) (*awsecs.RunTaskOutput, error)
		wantMsg  string
		wantHint string
		wantRuns int
	}{
		{
			name: "client exception",
			run: func(int) (*awsecs.RunTaskOutput, error) {
				return nil, apiErr("ClientException", "Task definition does not support launch_type FARGATE.")
			},
			wantMsg:  `run task "ssh-login" in cluster "prod" in region us-east-1: ClientException: Task definition does not support launch_type FARGATE.`,
			wantHint: "awsvpc", wantRuns: 1,
		},
		{
			name: "access denied",
			run: func(int) (*awsecs.RunTaskOutput, error) {
				return nil, apiErr("AccessDeniedException", "not authorized to perform: ecs:RunTask")
			},
			wantMsg: "not allowed to call ecs:RunTask", wantHint: "IAM", wantRuns: 1,
		},
		{
			name: "failures instead of a task",
			run: func(int) (*awsecs.RunTaskOutput, error) {
				return &awsecs.RunTaskOutput{Failures: []ecstypes.Failure{{Reason: aws.String("RESOURCE:ENI"), Detail: aws.String("no free address")}}}, nil
			},
			wantMsg: "ECS started no task: RESOURCE:ENI (no free address)", wantHint: "quotas", wantRuns: 1,
		},
		{
			name: "tagging unsupported: retried without tags",
			run: func(n int) (*awsecs.RunTaskOutput, error) {
				if n == 1 {
					return nil, apiErr("InvalidParameterException", "Long arn format must be used for tagging operations")
				}
				return &awsecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(testTaskARN)}}}, nil
			},
			wantRuns: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			var lastTags int
			f := &fargateECS{runTask: func(_ context.Context, in *awsecs.RunTaskInput) (*awsecs.RunTaskOutput, error) {
				runs++
				lastTags = len(in.Tags)
				return tt.run(runs)
			}}
			r := &Resolver{ECS: f, Region: "us-east-1"}
			_, err := r.RunTask(context.Background(), Launch{Cluster: "prod", TaskDefinition: "ssh-login", Network: Network{Subnets: []string{"s"}},
				Tags: []dockercmd.EnvVar{{Name: "k", Value: "v"}}})
			if runs != tt.wantRuns {
				t.Errorf("RunTask called %d times, want %d", runs, tt.wantRuns)
			}
			if tt.wantMsg == "" {
				if err != nil || lastTags != 0 {
					t.Fatalf("err = %v, tags on the last call = %d; want success without tags", err, lastTags)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %#v, want *Error", err)
			}
			if !strings.Contains(e.Msg, tt.wantMsg) || !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("error %q (hint %q); want message with %q and hint with %q", e.Msg, e.Hint, tt.wantMsg, tt.wantHint)
			}
		})
	}
}

func TestRunTaskClusterNotFound(t *testing.T) {
	f := &fargateECS{runTask: func(context.Context, *awsecs.RunTaskInput) (*awsecs.RunTaskOutput, error) {
		return nil, &ecstypes.ClusterNotFoundException{Message: aws.String("Cluster not found.")}
	}}
	f.listClusters = func(context.Context, *awsecs.ListClustersInput) (*awsecs.ListClustersOutput, error) {
		return &awsecs.ListClustersOutput{ClusterArns: []string{"arn:aws:ecs:us-east-1:1:cluster/prod", "arn:aws:ecs:us-east-1:1:cluster/dev"}}, nil
	}
	r := &Resolver{ECS: f, Region: "us-east-1"}
	_, err := r.RunTask(context.Background(), Launch{Cluster: "prdo", TaskDefinition: "td"})
	if err == nil || !strings.Contains(err.Error(), `cluster "prdo" not found in region us-east-1; clusters: dev, prod`) {
		t.Fatalf("err = %v", err)
	}
}

// ecsTask is a DescribeTasks answer for testTaskARN.
func ecsTask(last, desired string) ecstypes.Task {
	return ecstypes.Task{TaskArn: aws.String(testTaskARN), LastStatus: aws.String(last), DesiredStatus: aws.String(desired)}
}

func TestDescribeTask(t *testing.T) {
	task := ecsTask("STOPPED", "STOPPED")
	task.StoppedReason = aws.String("Essential container in task exited")
	task.StopCode = ecstypes.TaskStopCodeEssentialContainerExited
	task.Containers = []ecstypes.Container{
		{Name: aws.String("sshd"), Reason: aws.String("CannotPullContainerError: not found")},
		{Name: aws.String("sidecar"), ExitCode: aws.Int32(2)},
		{Name: aws.String("quiet")},
	}
	task.Attachments = []ecstypes.Attachment{
		{Type: aws.String("ElasticNetworkInterface"), Details: []ecstypes.KeyValuePair{
			{Name: aws.String("subnetId"), Value: aws.String("subnet-1")},
			{Name: aws.String("networkInterfaceId"), Value: aws.String("eni-1")},
			{Name: aws.String("privateIPv4Address"), Value: aws.String("10.0.0.7")},
		}},
	}
	f := &fargateECS{describeTasks: func(_ context.Context, in *awsecs.DescribeTasksInput) (*awsecs.DescribeTasksOutput, error) {
		if *in.Cluster != "prod" || in.Tasks[0] != testTaskARN {
			return nil, fmt.Errorf("unexpected input %v %v", *in.Cluster, in.Tasks)
		}
		return &awsecs.DescribeTasksOutput{Tasks: []ecstypes.Task{task}}, nil
	}}
	r := &Resolver{ECS: f, Region: "us-east-1"}
	st, err := r.DescribeTask(context.Background(), "prod", testTaskARN)
	if err != nil {
		t.Fatal(err)
	}
	want := &TaskStatus{
		ARN: testTaskARN, LastStatus: "STOPPED", DesiredStatus: "STOPPED",
		StoppedReason: "Essential container in task exited", StopCode: "EssentialContainerExited",
		Containers:         []string{"sshd: CannotPullContainerError: not found", "sidecar: exit code 2"},
		NetworkInterfaceID: "eni-1", PrivateIP: "10.0.0.7",
	}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	if got, want := st.Why(), "Essential container in task exited (EssentialContainerExited); container sshd: CannotPullContainerError: not found; container sidecar: exit code 2"; got != want {
		t.Errorf("Why() = %q\nwant    %q", got, want)
	}

	f.describeTasks = func(context.Context, *awsecs.DescribeTasksInput) (*awsecs.DescribeTasksOutput, error) {
		return &awsecs.DescribeTasksOutput{Failures: []ecstypes.Failure{{Reason: aws.String("MISSING")}}}, nil
	}
	if _, err := r.DescribeTask(context.Background(), "prod", testTaskARN); err == nil || !strings.Contains(err.Error(), "MISSING") {
		t.Errorf("missing task: err = %v", err)
	}
}

// sequence answers DescribeTasks with the given statuses, the last one
// for ever.
func sequence(statuses ...ecstypes.Task) (*fargateECS, *int) {
	var mu sync.Mutex
	n := 0
	return &fargateECS{describeTasks: func(context.Context, *awsecs.DescribeTasksInput) (*awsecs.DescribeTasksOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		t := statuses[min(n, len(statuses)-1)]
		n++
		return &awsecs.DescribeTasksOutput{Tasks: []ecstypes.Task{t}}, nil
	}}, &n
}

func TestWaitRunning(t *testing.T) {
	fast := Waiter{First: time.Millisecond, Max: 2 * time.Millisecond}
	failed := ecsTask("STOPPED", "STOPPED")
	failed.StoppedReason = aws.String("Task failed to start")
	failed.StopCode = ecstypes.TaskStopCodeTaskFailedToStart
	failed.Containers = []ecstypes.Container{{Name: aws.String("sshd"), Reason: aws.String("CannotPullContainerError: pull access denied")}}

	t.Run("progress once per status", func(t *testing.T) {
		f, calls := sequence(ecsTask("PROVISIONING", "RUNNING"), ecsTask("PROVISIONING", "RUNNING"), ecsTask("PENDING", "RUNNING"), ecsTask("RUNNING", "RUNNING"))
		var seen []string
		w := fast
		w.Progress = func(st *TaskStatus) { seen = append(seen, st.LastStatus) }
		st, err := (&Resolver{ECS: f}).WaitRunning(context.Background(), w, "prod", testTaskARN)
		if err != nil || !st.Running() {
			t.Fatalf("WaitRunning = %v, %v", st, err)
		}
		if d := cmp.Diff([]string{"PROVISIONING", "PENDING", "RUNNING"}, seen); d != "" {
			t.Errorf("progress (-want +got):\n%s", d)
		}
		if *calls != 4 {
			t.Errorf("%d DescribeTasks calls, want 4", *calls)
		}
	})
	t.Run("stopped before running", func(t *testing.T) {
		f, _ := sequence(ecsTask("PROVISIONING", "RUNNING"), failed)
		st, err := (&Resolver{ECS: f}).WaitRunning(context.Background(), fast, "prod", testTaskARN)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *Error", err)
		}
		want := "task 0123456789abcdef stopped before it was running: Task failed to start (TaskFailedToStart); container sshd: CannotPullContainerError: pull access denied"
		if e.Msg != want || e.Hint == "" {
			t.Errorf("error %q (hint %q)\nwant  %q", e.Msg, e.Hint, want)
		}
		if st == nil || st.LastStatus != "STOPPED" {
			t.Errorf("status = %v, want the STOPPED one", st)
		}
	})
	t.Run("desired STOPPED counts as stopped", func(t *testing.T) {
		f, _ := sequence(ecsTask("PENDING", "STOPPED"))
		if _, err := (&Resolver{ECS: f}).WaitRunning(context.Background(), fast, "prod", testTaskARN); err == nil || !strings.Contains(err.Error(), "stopped before") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("timeout names the last status", func(t *testing.T) {
		f, _ := sequence(ecsTask("PENDING", "RUNNING"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := (&Resolver{ECS: f}).WaitRunning(ctx, fast, "prod", testTaskARN)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, "not running after the wait timeout (last status PENDING)") || !strings.Contains(e.Hint, "--wait-timeout") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		f, _ := sequence(ecsTask("PENDING", "RUNNING"))
		ctx, cancel := context.WithCancel(context.Background())
		w := fast
		w.Progress = func(*TaskStatus) { cancel() }
		_, err := (&Resolver{ECS: f}).WaitRunning(ctx, w, "prod", testTaskARN)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("describe error", func(t *testing.T) {
		f := &fargateECS{describeTasks: func(context.Context, *awsecs.DescribeTasksInput) (*awsecs.DescribeTasksOutput, error) {
			return nil, apiErr("AccessDeniedException", "no")
		}}
		_, err := (&Resolver{ECS: f, Region: "us-east-1"}).WaitRunning(context.Background(), fast, "prod", testTaskARN)
		if err == nil || !strings.Contains(err.Error(), "ecs:DescribeTasks") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestStopTask(t *testing.T) {
	var got *awsecs.StopTaskInput
	f := &fargateECS{stopTask: func(_ context.Context, in *awsecs.StopTaskInput) (*awsecs.StopTaskOutput, error) {
		got = in
		return &awsecs.StopTaskOutput{}, nil
	}}
	r := &Resolver{ECS: f, Region: "us-east-1"}
	if err := r.StopTask(context.Background(), "prod", testTaskARN, "ssh-ecs-run-task finished"); err != nil {
		t.Fatal(err)
	}
	if *got.Cluster != "prod" || *got.Task != testTaskARN || *got.Reason != "ssh-ecs-run-task finished" {
		t.Errorf("StopTask input = %v %v %v", *got.Cluster, *got.Task, *got.Reason)
	}
	f.stopTask = func(context.Context, *awsecs.StopTaskInput) (*awsecs.StopTaskOutput, error) {
		return nil, apiErr("ServerException", "boom")
	}
	err := r.StopTask(context.Background(), "prod", testTaskARN, "x")
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Hint, "aws ecs stop-task --region us-east-1 --cluster prod --task "+testTaskARN) {
		t.Errorf("err = %v (%#v)", err, e)
	}
}

func TestNetworkInterface(t *testing.T) {
	f := &fargateEC2{describeNetworkInterfaces: func(_ context.Context, in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
		return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: []ec2types.NetworkInterface{{
			NetworkInterfaceId: aws.String(in.NetworkInterfaceIds[0]), PrivateIpAddress: aws.String("10.0.0.7"), PrivateDnsName: aws.String("ip-10-0-0-7.ec2.internal"),
			Association: &ec2types.NetworkInterfaceAssociation{PublicIp: aws.String("203.0.113.9"), PublicDnsName: aws.String("ec2-203-0-113-9.compute-1.amazonaws.com")},
		}}}, nil
	}}
	r := &Resolver{EC2: f, Region: "us-east-1"}
	got, err := r.NetworkInterface(context.Background(), "eni-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &ENI{ID: "eni-1", PrivateIP: "10.0.0.7", PublicIP: "203.0.113.9", PrivateDNS: "ip-10-0-0-7.ec2.internal", PublicDNS: "ec2-203-0-113-9.compute-1.amazonaws.com"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ENI (-want +got):\n%s", d)
	}
}

func TestTaskAddress(t *testing.T) {
	st := &TaskStatus{ARN: testTaskARN, PrivateIP: "10.0.0.7", NetworkInterfaceID: "eni-1"}
	withPublic := &ENI{ID: "eni-1", PrivateIP: "10.0.0.7", PublicIP: "203.0.113.9", PrivateDNS: "ip-10-0-0-7", PublicDNS: "ec2-203"}
	noPublic := &ENI{ID: "eni-1", PrivateIP: "10.0.0.7", PrivateDNS: "ip-10-0-0-7"}
	tests := []struct {
		kind    string
		eni     *ENI
		want    string
		wantErr string
	}{
		{kind: "", eni: withPublic, want: "203.0.113.9"},
		{kind: "", eni: noPublic, want: "10.0.0.7"},
		{kind: "", eni: nil, want: "10.0.0.7"},
		{kind: AddressPrivateIP, eni: withPublic, want: "10.0.0.7"},
		{kind: AddressPrivateIP, eni: nil, want: "10.0.0.7"},
		{kind: AddressPublicIP, eni: withPublic, want: "203.0.113.9"},
		{kind: AddressPublicIP, eni: noPublic, wantErr: "has no public IP address"},
		{kind: AddressPrivateDNS, eni: withPublic, want: "ip-10-0-0-7"},
		{kind: AddressPublicDNS, eni: noPublic, wantErr: "has no public DNS name"},
		{kind: AddressName, eni: withPublic, wantErr: "does not apply to a Fargate task"},
		{kind: AddressID, eni: withPublic, wantErr: "does not apply to a Fargate task"},
	}
	for _, tt := range tests {
		got, err := TaskAddress(st, tt.eni, tt.kind)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("TaskAddress(%q, %v) error = %v, want %q", tt.kind, tt.eni, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("TaskAddress(%q, %v) = %q, %v; want %q", tt.kind, tt.eni, got, err, tt.want)
		}
	}
	// Which kinds need DescribeNetworkInterfaces.
	for _, c := range []struct {
		kind   string
		public bool
		want   bool
	}{{"", false, false}, {"", true, true}, {AddressPrivateIP, true, false}, {AddressPublicIP, false, true}, {AddressPrivateDNS, false, true}} {
		if got := NeedsENI(c.kind, c.public); got != c.want {
			t.Errorf("NeedsENI(%q, %v) = %v, want %v", c.kind, c.public, got, c.want)
		}
	}
}
