package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/sshsession"
)

func parse(t *testing.T, args ...string) *cliargs.Parsed {
	t.Helper()
	p, err := cliargs.Parse(args)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	return p
}

func TestCheckFargate(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // "" = accepted
	}{
		{args: []string{"--subnets", "subnet-1", "--security-groups", "sg-1"}},
		{args: []string{"--service", "ssh-api"}},
		{args: []string{"--security-groups", "sg-1"}, wantErr: "needs a network configuration"},
		{args: []string{}, wantErr: "needs a network configuration"},
		{args: []string{"--subnets", "s", "+e"}, wantErr: "option +e only works in EC2 mode"},
		{args: []string{"--subnets", "s", "--image", "x"}, wantErr: "option --image"},
		{args: []string{"--subnets", "s", "--tag", "2"}, wantErr: "option --tag"},
		{args: []string{"--subnets", "s", "--user", "app"}, wantErr: "option --user"},
		{args: []string{"--subnets", "s", "-w", "/tmp"}, wantErr: "option --workdir"},
		{args: []string{"--subnets", "s", "--address", "public-ip"}},
		{args: []string{"--subnets", "s", "--address", "name"}, wantErr: "--address name does not apply"},
	}
	for _, tt := range tests {
		args := append([]string{"--launch-type", "FARGATE", "--task", "ssh-login", "--cluster", "prod"}, tt.args...)
		err := checkFargate(parse(t, append(args, "--", "true")...))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: err = %v, want %q", tt.args, err, tt.wantErr)
		case err != nil && hintOf(err) == "":
			t.Errorf("%q: error %v has no hint", tt.args, err)
		}
	}
}

// The EC2-only options cliargs refuses in Fargate mode stay refused.
func TestFargateRefusesEC2Options(t *testing.T) {
	for _, opt := range [][]string{{"--instance", "0"}, {"--sudo"}, {"--sudo-u", "bob"}, {"+v"}, {"--domain", "example.com"}, {"-v", "/a:/b"}, {"--rm"}} {
		args := append([]string{"--launch-type", "FARGATE", "--task", "t", "--subnets", "s"}, opt...)
		if _, err := cliargs.Parse(append(args, "--", "true")); err == nil {
			t.Errorf("%q accepted in Fargate mode", opt)
		}
	}
}

func TestFargateNetwork(t *testing.T) {
	svc := &ecs.Network{Subnets: []string{"subnet-svc"}, SecurityGroups: []string{"sg-svc"}, AssignPublicIP: false}
	tests := []struct {
		name string
		args []string
		svc  *ecs.Network
		want ecs.Network
	}{
		{name: "options only", args: []string{"--subnets", "subnet-1,subnet-2", "--security-groups", "sg-1", "--assign-public-ip"},
			want: ecs.Network{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: true}},
		{name: "service only", svc: svc, want: *svc},
		{name: "options win over the service", args: []string{"--security-groups", "sg-mine", "--assign-public-ip"}, svc: svc,
			want: ecs.Network{Subnets: []string{"subnet-svc"}, SecurityGroups: []string{"sg-mine"}, AssignPublicIP: true}},
	}
	for _, tt := range tests {
		args := append([]string{"--launch-type", "FARGATE", "--task", "t"}, tt.args...)
		got := fargateNetwork(parse(t, append(args, "--", "true")...), tt.svc)
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestOneTimeKeys(t *testing.T) {
	k, err := newOneTimeKeys()
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(k.authorized))
	if err != nil || len(rest) != 0 || strings.Contains(k.authorized, "\n") {
		t.Fatalf("authorized line %q: %v (rest %q)", k.authorized, err, rest)
	}
	if !bytes.Equal(pub.Marshal(), k.client.PublicKey().Marshal()) || pub.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("authorized key is not the client's ed25519 key")
	}
	if !strings.HasPrefix(k.hostPEM, "-----BEGIN OPENSSH PRIVATE KEY-----\n") {
		t.Errorf("host key is not in OpenSSH format: %.40q", k.hostPEM)
	}
	host, err := ssh.ParsePrivateKey([]byte(k.hostPEM))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(host.PublicKey().Marshal(), k.host.Marshal()) {
		t.Errorf("the host public key does not match the private key sent to the task")
	}
	k2, _ := newOneTimeKeys()
	if k2.authorized == k.authorized || k2.hostPEM == k.hostPEM {
		t.Errorf("keys are reused between runs")
	}
}

func TestSSHDPortAndLogin(t *testing.T) {
	for _, c := range []struct {
		args              []string
		port, user, wantP string
	}{
		{args: nil, port: "", user: "root", wantP: "22"},
		{args: []string{"--ssh-p", "2222"}, port: "2222", user: "root", wantP: "2222"},
		{args: []string{"--ssh-o", "Port=2022", "--ssh-user", "admin"}, port: "2022", user: "admin", wantP: "2022"},
	} {
		args := append([]string{"--launch-type", "FARGATE", "--task", "t", "--subnets", "s"}, c.args...)
		p := parse(t, append(args, "--", "true")...)
		if got := sshdPort(p); got != c.port {
			t.Errorf("%q: sshdPort = %q, want %q", c.args, got, c.port)
		}
		plan, err := sshsession.Prepare(fargateSSHConfig(p, "10.0.0.7", &Streams{ErrOut: &bytes.Buffer{}}, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := plan.Describe(), c.user+"@10.0.0.7:"+c.wantP; got != want {
			t.Errorf("%q: plan %q, want %q", c.args, got, want)
		}
	}
}

// fakeECS is the ECS API of one Fargate run: ssh-login in cluster prod,
// service ssh-api; DescribeTasks walks through statuses.
type fakeECS struct {
	ecs.ECSAPI // other calls panic

	mu       sync.Mutex
	statuses []string // DescribeTasks answers, the last one for ever
	stopped  *ecstypes.Task
	describe int
	runIn    *awsecs.RunTaskInput
	runErr   error
	descErr  error
	stops    []string // reasons
	stopErr  error
	onStatus func(status string) // called at every DescribeTasks answer
}

const fakeARN = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef"

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *awsecs.DescribeTaskDefinitionInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error) {
	return &awsecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{
		TaskDefinitionArn:    aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/ssh-login:1"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("sshd"), Image: aws.String("sshd:1")}},
	}}, nil
}

func (f *fakeECS) DescribeServices(_ context.Context, in *awsecs.DescribeServicesInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error) {
	return &awsecs.DescribeServicesOutput{Services: []ecstypes.Service{{
		ServiceName: aws.String("ssh-api"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String("ssh-login:1"),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{"subnet-svc"}, SecurityGroups: []string{"sg-svc"}, AssignPublicIp: ecstypes.AssignPublicIpEnabled,
		}},
	}}}, nil
}

func (f *fakeECS) RunTask(_ context.Context, in *awsecs.RunTaskInput, _ ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runIn = in
	if f.runErr != nil {
		return nil, f.runErr
	}
	return &awsecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(fakeARN)}}}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *awsecs.DescribeTasksInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error) {
	f.mu.Lock()
	if f.descErr != nil {
		f.mu.Unlock()
		return nil, f.descErr
	}
	status := f.statuses[min(f.describe, len(f.statuses)-1)]
	f.describe++
	on := f.onStatus
	t := ecstypes.Task{TaskArn: aws.String(fakeARN), LastStatus: aws.String(status), DesiredStatus: aws.String("RUNNING")}
	if status == "STOPPED" && f.stopped != nil {
		t = *f.stopped
	}
	t.Attachments = []ecstypes.Attachment{{Type: aws.String("ElasticNetworkInterface"), Details: []ecstypes.KeyValuePair{
		{Name: aws.String("networkInterfaceId"), Value: aws.String("eni-1")},
		{Name: aws.String("privateIPv4Address"), Value: aws.String("10.0.0.7")},
	}}}
	f.mu.Unlock()
	if on != nil {
		on(status)
	}
	return &awsecs.DescribeTasksOutput{Tasks: []ecstypes.Task{t}}, nil
}

func (f *fakeECS) StopTask(_ context.Context, in *awsecs.StopTaskInput, _ ...func(*awsecs.Options)) (*awsecs.StopTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, aws.ToString(in.Reason))
	return &awsecs.StopTaskOutput{}, f.stopErr
}

func (f *fakeECS) stopReasons() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stops...)
}

type fakeEC2 struct{ ecs.EC2API }

func (fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: []ec2types.NetworkInterface{{
		NetworkInterfaceId: aws.String(in.NetworkInterfaceIds[0]), PrivateIpAddress: aws.String("10.0.0.7"),
		Association: &ec2types.NetworkInterfaceAssociation{PublicIp: aws.String("203.0.113.9")},
	}}}, nil
}

// fakeSession is what the fake connect saw and does.
type fakeSession struct {
	mu   sync.Mutex
	cfg  sshsession.Config
	req  sshsession.RunRequest
	do   func(ctx context.Context, req sshsession.RunRequest) (int, error)
	runs int
}

func (s *fakeSession) connect(ctx, waitCtx context.Context, cfg sshsession.Config, req sshsession.RunRequest) (int, error) {
	s.mu.Lock()
	s.cfg, s.req = cfg, req
	s.runs++
	s.mu.Unlock()
	if s.do == nil {
		return 0, nil
	}
	return s.do(ctx, req)
}

func TestFargateStopsOnEveryPath(t *testing.T) {
	running := []string{"PROVISIONING", "PENDING", "RUNNING"}
	failed := &ecstypes.Task{
		TaskArn: aws.String(fakeARN), LastStatus: aws.String("STOPPED"), DesiredStatus: aws.String("STOPPED"),
		StoppedReason: aws.String("Task failed to start"), StopCode: ecstypes.TaskStopCodeTaskFailedToStart,
		Containers: []ecstypes.Container{{Name: aws.String("sshd"), Reason: aws.String("CannotPullContainerError: no such image")}},
	}
	tests := []struct {
		name       string
		args       []string
		statuses   []string
		setup      func(f *fakeECS, s *fakeSession, sigs chan os.Signal)
		wantStatus int
		wantErr    string   // "" = no error
		wantStops  []string // StopTask reasons
		wantRuns   int      // sessions started
	}{
		{name: "normal end", statuses: running, wantStops: []string{stopFinished}, wantRuns: 1},
		{name: "remote failure", statuses: running, setup: func(_ *fakeECS, s *fakeSession, _ chan os.Signal) {
			s.do = func(context.Context, sshsession.RunRequest) (int, error) { return 3, nil }
		}, wantStatus: 3, wantStops: []string{stopFinished}, wantRuns: 1},
		{name: "lost connection", statuses: running, setup: func(_ *fakeECS, s *fakeSession, _ chan os.Signal) {
			s.do = func(context.Context, sshsession.RunRequest) (int, error) {
				return 255, errors.New("connection to 10.0.0.7 lost")
			}
		}, wantStatus: 255, wantErr: "connection to 10.0.0.7 lost", wantStops: []string{stopFinished}, wantRuns: 1},
		{name: "task stops before RUNNING", statuses: []string{"PROVISIONING", "STOPPED"}, setup: func(f *fakeECS, _ *fakeSession, _ chan os.Signal) {
			f.stopped = failed
		}, wantErr: "stopped before it was running: Task failed to start (TaskFailedToStart); container sshd: CannotPullContainerError: no such image",
			wantStops: []string{stopFinished}},
		{name: "wait timeout", args: []string{"--wait-timeout", "30ms"}, statuses: []string{"PENDING"},
			wantErr: "not running after the wait timeout (last status PENDING)", wantStops: []string{stopFinished}},
		{name: "DescribeTasks fails", statuses: running, setup: func(f *fakeECS, _ *fakeSession, _ chan os.Signal) {
			f.descErr = &smithy.GenericAPIError{Code: "ServerException", Message: "boom"}
		}, wantErr: "boom", wantStops: []string{stopFinished}},
		{name: "SIGINT during the wait", statuses: []string{"PENDING"}, setup: func(f *fakeECS, _ *fakeSession, sigs chan os.Signal) {
			var once sync.Once
			f.onStatus = func(string) { once.Do(func() { sigs <- os.Interrupt }) }
		}, wantErr: "interrupted by SIGINT before the remote command started", wantStops: []string{stopInterrupted}},
		{name: "SIGTERM during the session is relayed", statuses: running, setup: func(_ *fakeECS, s *fakeSession, sigs chan os.Signal) {
			s.do = func(_ context.Context, req sshsession.RunRequest) (int, error) {
				sigs <- syscall.SIGTERM
				select {
				case sig := <-req.Signals:
					if sig != syscall.SIGTERM {
						return 0, errors.New("wrong signal relayed")
					}
					return 143, nil
				case <-time.After(10 * time.Second):
					return 0, errors.New("signal not relayed")
				}
			}
		}, wantStatus: 143, wantStops: []string{stopFinished}, wantRuns: 1},
		{name: "signals the remote command ignores end the session", statuses: running, setup: func(_ *fakeECS, s *fakeSession, sigs chan os.Signal) {
			s.do = func(ctx context.Context, req sshsession.RunRequest) (int, error) {
				sigs <- syscall.SIGTERM
				<-req.Signals // relayed, and ignored, like sshd does for a ForceCommand
				sigs <- syscall.SIGTERM
				<-ctx.Done()
				return 255, ctx.Err()
			}
		}, wantErr: "interrupted by SIGTERM during the remote command", wantStops: []string{stopInterrupted}, wantRuns: 1},
		{name: "RunTask fails: nothing to stop", statuses: running, setup: func(f *fakeECS, _ *fakeSession, _ chan os.Signal) {
			f.runErr = &smithy.GenericAPIError{Code: "ClientException", Message: "Task definition does not support launch_type FARGATE."}
		}, wantErr: "does not support launch_type FARGATE", wantStops: nil},
		{name: "StopTask fails after success: status stands", statuses: running, setup: func(f *fakeECS, s *fakeSession, _ chan os.Signal) {
			f.stopErr = &smithy.GenericAPIError{Code: "ServerException", Message: "stop failed"}
			s.do = func(context.Context, sshsession.RunRequest) (int, error) { return 4, nil }
		}, wantStatus: 4, wantStops: []string{stopFinished}, wantRuns: 1},
		{name: "StopTask fails after an error: both reported", statuses: []string{"PENDING"}, args: []string{"--wait-timeout", "30ms"},
			setup: func(f *fakeECS, _ *fakeSession, _ chan os.Signal) {
				f.stopErr = &smithy.GenericAPIError{Code: "ServerException", Message: "stop failed"}
			}, wantErr: "stop failed", wantStops: []string{stopFinished}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeECS{statuses: tt.statuses}
			s := &fakeSession{}
			sigs := make(chan os.Signal, 4)
			if tt.setup != nil {
				tt.setup(f, s, sigs)
			}
			args := append([]string{"--launch-type", "FARGATE", "--task", "ssh-login", "--cluster", "prod", "--subnets", "subnet-1", "--non-interactive"}, tt.args...)
			p := parse(t, append(args, "--", "sh", "-c", "exit 3")...)
			var errOut bytes.Buffer
			st := &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}
			ctx, router, cancel := route(context.Background(), sigs)
			defer cancel()
			run := &fargateRun{
				p: p, s: st, log: newLogger(st, p), router: router,
				aws:     &ecs.Resolver{ECS: f, EC2: fakeEC2{}, Region: "us-east-1"},
				wait:    ecs.Waiter{First: time.Millisecond, Max: 5 * time.Millisecond},
				connect: s.connect,
			}
			status, err := run.run(ctx)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("run: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("run error = %v, want %q", err, tt.wantErr)
			}
			if err == nil && status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if d := cmp.Diff(tt.wantStops, f.stopReasons()); d != "" {
				t.Errorf("StopTask reasons (-want +got):\n%s", d)
			}
			if s.runs != tt.wantRuns {
				t.Errorf("%d sessions, want %d", s.runs, tt.wantRuns)
			}
			if f.stopErr != nil && err == nil && !strings.Contains(errOut.String(), "stop failed") {
				t.Errorf("a failed StopTask is not reported on stderr: %q", errOut.String())
			}
		})
	}
}

// The RunTask request and the session configuration of a normal run.
func TestFargateRequest(t *testing.T) {
	for _, c := range []struct {
		name     string
		args     []string
		wantHost string
		wantPort bool
	}{
		{name: "options, private IP", args: []string{"--task", "ssh-login", "--subnets", "subnet-1"}, wantHost: "10.0.0.7"},
		{name: "service, public IP, --ssh-p", args: []string{"--service", "ssh-api", "--ssh-p", "2222"}, wantHost: "203.0.113.9", wantPort: true},
		{name: "service, --address private-ip", args: []string{"--service", "ssh-api", "--address", "private-ip"}, wantHost: "10.0.0.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeECS{statuses: []string{"RUNNING"}}
			s := &fakeSession{}
			args := append([]string{"--launch-type", "FARGATE", "--cluster", "prod", "--platform-version", "1.4.0"}, c.args...)
			p := parse(t, append(args, "--", "echo", "a  b")...)
			st := &Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			ctx, router, cancel := route(context.Background(), make(chan os.Signal))
			defer cancel()
			run := &fargateRun{p: p, s: st, log: newLogger(st, p), router: router, connect: s.connect,
				aws: &ecs.Resolver{ECS: f, EC2: fakeEC2{}, Region: "us-east-1"}, wait: ecs.Waiter{First: time.Millisecond}}
			if _, err := run.run(ctx); err != nil {
				t.Fatal(err)
			}
			in := f.runIn
			if aws.ToString(in.StartedBy) != fargateStartedBy || len(in.Tags) != 1 || aws.ToString(in.Tags[0].Key) != fargateTagKey || aws.ToString(in.Tags[0].Value) == "" {
				t.Errorf("startedBy %v, tags %v", aws.ToString(in.StartedBy), in.Tags)
			}
			if in.LaunchType != ecstypes.LaunchTypeFargate || aws.ToString(in.PlatformVersion) != "1.4.0" {
				t.Errorf("launch type %q, platform %v", in.LaunchType, aws.ToString(in.PlatformVersion))
			}
			env := map[string]string{}
			o := in.Overrides.ContainerOverrides[0]
			if aws.ToString(o.Name) != "sshd" {
				t.Errorf("override for container %q, want sshd", aws.ToString(o.Name))
			}
			for _, kv := range o.Environment {
				env[*kv.Name] = *kv.Value
			}
			if _, ok := env[envSSHDPort]; ok != c.wantPort {
				t.Errorf("SSHD_PORT passed = %v, want %v", ok, c.wantPort)
			}
			authorized, _, _, _, err := ssh.ParseAuthorizedKey([]byte(env[envAuthorizedKeys]))
			if err != nil {
				t.Fatalf("SSH_AUTHORIZED_KEYS: %v", err)
			}
			host, err := ssh.ParsePrivateKey([]byte(env[envHostKey]))
			if err != nil {
				t.Fatalf("SSH_HOST_ED25519_KEY: %v", err)
			}
			cfg := s.cfg
			if cfg.Host != c.wantHost {
				t.Errorf("dialled %q, want %q", cfg.Host, c.wantHost)
			}
			if !cfg.NoDefaultAuth || len(cfg.Signers) != 1 || !bytes.Equal(cfg.Signers[0].PublicKey().Marshal(), authorized.Marshal()) {
				t.Errorf("session does not authenticate with exactly the one-time key")
			}
			if cfg.HostKey == nil || !bytes.Equal(cfg.HostKey.Marshal(), host.PublicKey().Marshal()) {
				t.Errorf("session does not expect exactly the one-time host key")
			}
			if got, want := s.req.Command, "echo 'a  b'"; got != want {
				t.Errorf("remote command %q, want %q", got, want)
			}
			if d := cmp.Diff([]string{stopFinished}, f.stopReasons()); d != "" {
				t.Errorf("StopTask (-want +got):\n%s", d)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}, true},
		{errors.New("ssh handshake with 10.0.0.7:22: connection closed by the server"), true},
		{context.DeadlineExceeded, true},
		{&sshsession.Error{Err: errors.New("host key for 10.0.0.7 (ED25519 SHA256:x) is not the expected ED25519 SHA256:y")}, false},
		{&sshsession.Error{Err: errors.New("authenticate as root to 10.0.0.7:22: no key was accepted")}, false},
		{&sshsession.Error{Err: errors.New("connect to 10.0.0.7:22: timed out after 5s (ConnectTimeout)")}, true},
	} {
		if got := retryable(c.err); got != c.want {
			t.Errorf("retryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
