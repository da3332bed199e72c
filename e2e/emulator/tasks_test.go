package emulator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// fakeRunner records launches and stops.
type fakeRunner struct {
	ip       string
	startErr error

	mu       sync.Mutex
	launches []TaskLaunch
	stopped  []string
}

func (f *fakeRunner) Start(_ context.Context, t *TaskLaunch) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.launches = append(f.launches, *t)
	return f.ip, f.startErr
}

func (f *fakeRunner) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, id)
	return nil
}

func (f *fakeRunner) stops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stopped...)
}

func runSSHLogin(t *testing.T, ecsc *awsecs.Client, assign types.AssignPublicIp) *types.Task {
	t.Helper()
	out, err := ecsc.RunTask(context.Background(), &awsecs.RunTaskInput{
		Cluster: aws.String("prod"), TaskDefinition: aws.String("ssh-login"), LaunchType: types.LaunchTypeFargate,
		StartedBy: aws.String("ssh-ecs-run-task"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: []string{"subnet-0a1b2c3d4e5f60001"}, SecurityGroups: []string{"sg-0a1b2c3d4e5f60001"}, AssignPublicIp: assign,
		}},
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
			Name: aws.String("sshd"),
			Environment: []types.KeyValuePair{
				{Name: aws.String("SSH_AUTHORIZED_KEYS"), Value: aws.String("ssh-ed25519 AAAAC3Nza test")},
				{Name: aws.String("APP_ENV"), Value: aws.String("overridden\nline2")},
			},
		}}},
		Tags: []types.Tag{{Key: aws.String("purpose"), Value: aws.String("e2e")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 1 || len(out.Failures) != 0 {
		t.Fatalf("RunTask = %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	return &out.Tasks[0]
}

func details(tk types.Task) map[string]string {
	out := map[string]string{}
	for _, a := range tk.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		for _, d := range a.Details {
			out[aws.ToString(d.Name)] = aws.ToString(d.Value)
		}
	}
	return out
}

func TestFargateTaskLifecycle(t *testing.T) {
	tests := []struct {
		name        string
		assign      types.AssignPublicIp
		wantPublic  string
		wantPrivate string // "" = any invented address
	}{
		{"public IP", types.AssignPublicIpEnabled, "127.0.0.20", ""},
		{"private IP", types.AssignPublicIpDisabled, "", "127.0.0.20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := start(t, nil)
			runner := &fakeRunner{ip: "127.0.0.20"}
			s.SetRunner(runner)
			ecsc, ec2c := clients(url)
			ctx := context.Background()
			tk := runSSHLogin(t, ecsc, tt.assign)
			arn := aws.ToString(tk.TaskArn)

			statuses := []string{aws.ToString(tk.LastStatus)}
			var last types.Task
			for range 3 {
				out, err := ecsc.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arn}, Include: []types.TaskField{types.TaskFieldTags}})
				if err != nil {
					t.Fatal(err)
				}
				last = out.Tasks[0]
				statuses = append(statuses, aws.ToString(last.LastStatus))
			}
			if diff := cmp.Diff(statuses, []string{"PROVISIONING", "PROVISIONING", "PENDING", "RUNNING"}); diff != "" {
				t.Errorf("statuses (-got +want):\n%s", diff)
			}
			d := details(last)
			for _, k := range []string{"subnetId", "networkInterfaceId", "macAddress", "privateDnsName", "privateIPv4Address"} {
				if d[k] == "" {
					t.Errorf("attachment detail %s missing in %v", k, d)
				}
			}
			if tt.wantPrivate != "" && d["privateIPv4Address"] != tt.wantPrivate {
				t.Errorf("privateIPv4Address = %q, want %q", d["privateIPv4Address"], tt.wantPrivate)
			}
			if aws.ToString(last.StartedBy) != "ssh-ecs-run-task" || len(last.Tags) != 1 || aws.ToString(last.Overrides.ContainerOverrides[0].Name) != "sshd" {
				t.Errorf("task startedBy %q tags %v overrides %+v not echoed", aws.ToString(last.StartedBy), last.Tags, last.Overrides)
			}

			eni, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{d["networkInterfaceId"]}})
			if err != nil {
				t.Fatal(err)
			}
			n := eni.NetworkInterfaces[0]
			public := ""
			if n.Association != nil {
				public = aws.ToString(n.Association.PublicIp)
			}
			if public != tt.wantPublic || aws.ToString(n.PrivateIpAddress) != d["privateIPv4Address"] {
				t.Errorf("ENI public %q private %q, want %q and %q", public, aws.ToString(n.PrivateIpAddress), tt.wantPublic, d["privateIPv4Address"])
			}

			wantEnv := []EnvVar{{"APP_ENV", "overridden\nline2"}, {"SSH_AUTHORIZED_KEYS", "ssh-ed25519 AAAAC3Nza test"}}
			if diff := cmp.Diff(runner.launches[0].Env, wantEnv); diff != "" {
				t.Errorf("launched env (-got +want):\n%s", diff)
			}
			info := s.Tasks()[0]
			if info.Launch.StartedBy != "ssh-ecs-run-task" || info.Tags["purpose"] != "e2e" || info.IP != "127.0.0.20" || len(info.Overrides) == 0 {
				t.Errorf("recorded task = %+v", info)
			}

			listed, err := ecsc.ListTasks(ctx, &awsecs.ListTasksInput{Cluster: aws.String("prod"), StartedBy: aws.String("ssh-ecs-run-task")})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(listed.TaskArns, []string{arn}); diff != "" {
				t.Errorf("ListTasks (-got +want):\n%s", diff)
			}

			// StopTask twice: the second one is harmless and does not stop the runner again.
			for range 2 {
				st, err := ecsc.StopTask(ctx, &awsecs.StopTaskInput{Cluster: aws.String("prod"), Task: aws.String(arn), Reason: aws.String("session ended")})
				if err != nil {
					t.Fatal(err)
				}
				if aws.ToString(st.Task.LastStatus) != "STOPPED" || aws.ToString(st.Task.DesiredStatus) != "STOPPED" || aws.ToString(st.Task.StoppedReason) != "session ended" {
					t.Errorf("StopTask task = %s/%s %q", aws.ToString(st.Task.LastStatus), aws.ToString(st.Task.DesiredStatus), aws.ToString(st.Task.StoppedReason))
				}
			}
			if diff := cmp.Diff(runner.stops(), []string{runner.launches[0].ID}); diff != "" {
				t.Errorf("runner stops (-got +want):\n%s", diff)
			}
			listed, err = ecsc.ListTasks(ctx, &awsecs.ListTasksInput{Cluster: aws.String("prod")})
			if err != nil || len(listed.TaskArns) != 0 {
				t.Errorf("RUNNING tasks after stop = %v, %v", listed.TaskArns, err)
			}
			var ae smithy.APIError
			_, err = ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{d["networkInterfaceId"]}})
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidNetworkInterfaceID.NotFound" {
				t.Errorf("ENI after stop: err = %v, want InvalidNetworkInterfaceID.NotFound", err)
			}
		})
	}
}

func TestTasksRunningWaiter(t *testing.T) {
	s, url := start(t, nil)
	s.SetRunner(&fakeRunner{ip: "127.0.0.21"})
	ecsc, _ := clients(url)
	tk := runSSHLogin(t, ecsc, types.AssignPublicIpEnabled)
	w := awsecs.NewTasksRunningWaiter(ecsc, func(o *awsecs.TasksRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
	})
	if err := w.Wait(context.Background(), &awsecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{aws.ToString(tk.TaskArn)}}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestRunnerFailureStopsTask(t *testing.T) {
	s, url := start(t, func(st *State) { zero := 0; st.TaskSteps = &zero })
	runner := &fakeRunner{startErr: errors.New("image ssh-ecs-run-task/sshd:test not found")}
	s.SetRunner(runner)
	ecsc, _ := clients(url)
	tk := runSSHLogin(t, ecsc, types.AssignPublicIpEnabled)
	out, err := ecsc.DescribeTasks(context.Background(), &awsecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{aws.ToString(tk.TaskArn), "0123"}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Tasks[0]
	if aws.ToString(got.LastStatus) != "STOPPED" || got.StopCode != types.TaskStopCodeTaskFailedToStart || aws.ToString(got.StoppedReason) == "" ||
		aws.ToString(got.Containers[0].Reason) != "CannotStartContainerError: image ssh-ecs-run-task/sshd:test not found" {
		t.Errorf("task = %s %s %q, container reason %q", aws.ToString(got.LastStatus), got.StopCode, aws.ToString(got.StoppedReason), aws.ToString(got.Containers[0].Reason))
	}
	if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("failures = %+v, want one MISSING", out.Failures)
	}
	if _, err := ecsc.StopTask(context.Background(), &awsecs.StopTaskInput{Cluster: aws.String("prod"), Task: tk.TaskArn}); err != nil {
		t.Fatal(err)
	}
	if len(runner.stops()) != 0 {
		t.Errorf("runner stopped %v, want nothing for a task that never started", runner.stops())
	}
}

func TestRunTaskErrors(t *testing.T) {
	_, url := start(t, nil)
	ecsc, _ := clients(url)
	vpc := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	tests := []struct {
		name     string
		in       awsecs.RunTaskInput
		wantCode string
	}{
		{"unknown cluster", awsecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String("ssh-login"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: vpc}, "ClusterNotFoundException"},
		{"unknown task definition", awsecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("nope"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: vpc}, "InvalidParameterException"},
		{"no network configuration", awsecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("ssh-login"), LaunchType: types.LaunchTypeFargate}, "InvalidParameterException"},
		{"EC2-only definition on Fargate", awsecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web:7"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: vpc}, "ClientException"},
		{"override of unknown container", awsecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("ssh-login"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: vpc,
			Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("web")}}}}, "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ecsc.RunTask(context.Background(), &tt.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Errorf("err = %v, want %s", err, tt.wantCode)
			}
		})
	}
}

func TestTasksControlEndpoint(t *testing.T) {
	s, url := start(t, nil)
	ecsc, _ := clients(url)
	tk := runSSHLogin(t, ecsc, types.AssignPublicIpEnabled)
	var got []TaskInfo
	getJSON(t, url+"/_emulator/tasks", &got)
	if len(got) != 1 || got[0].Launch.ARN != aws.ToString(tk.TaskArn) || got[0].Launch.Image != "ssh-ecs-run-task/sshd:test" {
		t.Errorf("GET /_emulator/tasks = %+v", got)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Tasks()[0].LastStatus; st != "STOPPED" {
		t.Errorf("after Close the task is %s, want STOPPED", st)
	}
}
