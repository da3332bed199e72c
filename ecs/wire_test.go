package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// reply is one canned HTTP response.
type reply struct {
	status int
	body   string
}

// awsServer speaks just enough of the ECS (awsJson1_1) and EC2 (query)
// protocols to serve canned replies by operation name, so that the real SDK
// clients and deserializers are exercised. It listens on 127.0.0.1 only.
type awsServer struct {
	*httptest.Server
	mu      sync.Mutex
	replies map[string]reply
	ops     []string
}

func newAWSServer(t *testing.T, replies map[string]reply) *awsServer {
	t.Helper()
	s := &awsServer{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ctype := "", "text/xml;charset=UTF-8"
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			op, ctype = target[strings.LastIndexByte(target, '.')+1:], "application/x-amz-json-1.1"
		} else if err := r.ParseForm(); err == nil {
			op = r.PostForm.Get("Action")
		}
		s.mu.Lock()
		s.ops = append(s.ops, op)
		rep, ok := s.replies[op]
		s.mu.Unlock()
		if !ok {
			rep = reply{500, fmt.Sprintf(`{"__type":"ServerException","message":"no reply for %s"}`, op)}
		}
		if rep.status == 0 {
			rep.status = 200
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(rep.status)
		fmt.Fprint(w, rep.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sdkResolver returns a Resolver whose real SDK clients talk to s.
func sdkResolver(s *awsServer, creds aws.CredentialsProvider) *Resolver {
	if creds == nil {
		creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1}
	return &Resolver{
		ECS:    awsecs.NewFromConfig(cfg, func(o *awsecs.Options) { o.BaseEndpoint = aws.String(s.URL) }),
		EC2:    ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(s.URL) }),
		Region: "us-east-1",
	}
}

func fixtureReplies(t *testing.T) map[string]reply {
	return map[string]reply{
		"DescribeTaskDefinition":     {body: fixture(t, "DescribeTaskDefinition.json")},
		"ListContainerInstances":     {body: fixture(t, "ListContainerInstances.json")},
		"DescribeContainerInstances": {body: fixture(t, "DescribeContainerInstances.json")},
		"DescribeInstances":          {body: fixture(t, "DescribeInstances.xml")},
		"ListClusters":               {body: fixture(t, "ListClusters.json")},
	}
}

// TestResolveFixtures resolves the research fixtures through the real SDK
// deserializers.
func TestResolveFixtures(t *testing.T) {
	s := newAWSServer(t, fixtureReplies(t))
	got, err := sdkResolver(s, nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Target{
		Cluster:        "web--staging",
		TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/ecscompose-web--staging:7",
		Container: dockercmd.Spec{
			Name:       "web",
			Image:      "registry.example.com:5000/web:1.6.0",
			User:       "app",
			Workdir:    "/app",
			Env:        []dockercmd.EnvVar{{Name: "DATABASE_NAME", Value: "web_staging"}, {Name: "GREETING", Value: "it's  two  spaces"}},
			EntryPoint: []string{"/usr/local/bin/dockerfy"},
			Init:       true,
			Volumes: []dockercmd.Volume{
				{Kind: dockercmd.Bind, Source: "/etc/secrets", ContainerPath: "/secrets", ReadOnly: true},
				{Kind: dockercmd.Anonymous, ContainerPath: "/scratch"},
			},
		},
		Instance: Instance{
			ID:                   "i-0123456789abcdef0",
			ContainerInstanceARN: "arn:aws:ecs:us-east-1:123456789012:container-instance/web--staging/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
			Name:                 "web--staging-ecs-i-0123456789abcdef0",
			PrivateIP:            "10.0.0.157",
			PublicIP:             "203.0.113.25",
			PrivateDNS:           "ip-10-0-0-157.ec2.internal",
			PublicDNS:            "ec2-203-0-113-25.compute-1.amazonaws.com",
		},
		Host: "10.0.0.157",
		Warnings: []string{
			`volumes from container "data" not copied (it does not run beside this one)`,
			`container "web": secrets not copied: DB_PASSWORD; environment files not copied: arn:aws:s3:::my-bucket/web.env; pass --with-secrets to read them with your AWS credentials`,
		},
		Secrets:          []SecretRef{{Name: "DB_PASSWORD", ValueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/db-password"}},
		EnvironmentFiles: []string{"arn:aws:s3:::my-bucket/web.env"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

// TestHostileEnvironmentOverTheWire checks that values survive the SDK's
// JSON decoding unchanged.
func TestHostileEnvironmentOverTheWire(t *testing.T) {
	var env []map[string]string
	for _, e := range hostile {
		env = append(env, map[string]string{"name": e.Name, "value": e.Value})
	}
	td := map[string]any{"taskDefinition": map[string]any{
		"taskDefinitionArn":    tdARN,
		"containerDefinitions": []any{map[string]any{"name": "web", "image": "nginx", "environment": env}},
	}}
	body, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	s := newAWSServer(t, map[string]reply{"DescribeTaskDefinition": {body: string(body)}})
	got, err := sdkResolver(s, nil).TaskSpec(context.Background(), Request{Task: "web", Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hostile, got.Container.Env); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestWireErrors(t *testing.T) {
	ecsErr := func(typ, msg string) reply {
		return reply{400, fmt.Sprintf(`{"__type":%q,"message":%q}`, typ, msg)}
	}
	ec2Err := func(code, msg string) reply {
		return reply{400, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>x</RequestID></Response>`, code, msg)}
	}
	tests := []struct {
		name     string
		replies  map[string]reply
		creds    aws.CredentialsProvider
		req      Request
		wantMsg  string
		wantHint string
	}{
		{
			name:     "unknown task definition",
			replies:  map[string]reply{"DescribeTaskDefinition": ecsErr("ClientException", "Unable to describe task definition.")},
			req:      Request{Task: "ecscompose-nope:3"},
			wantMsg:  `task definition "ecscompose-nope:3" not found in region us-east-1`,
			wantHint: "--task",
		},
		{
			name:     "guessed cluster not found",
			replies:  map[string]reply{"ListContainerInstances": ecsErr("ClusterNotFoundException", "Cluster not found.")},
			req:      Request{Task: "ecscompose-web--prod"},
			wantMsg:  `cluster "web--prod" (guessed from task "ecscompose-web--prod") not found in region us-east-1; clusters: web--staging`,
			wantHint: "pass --cluster NAME",
		},
		{
			name:     "expired token",
			replies:  map[string]reply{"DescribeTaskDefinition": ecsErr("ExpiredTokenException", "The security token included in the request is expired")},
			req:      Request{Task: "ecscompose-web--staging"},
			wantMsg:  "AWS credentials rejected by ecs:DescribeTaskDefinition in region us-east-1: ExpiredTokenException: The security token included in the request is expired",
			wantHint: "aws sso login",
		},
		{
			name:     "unrecognized client",
			replies:  map[string]reply{"DescribeTaskDefinition": ecsErr("UnrecognizedClientException", "The security token included in the request is invalid.")},
			req:      Request{Task: "ecscompose-web--staging"},
			wantMsg:  "AWS credentials rejected by ecs:DescribeTaskDefinition in region us-east-1: UnrecognizedClientException: The security token included in the request is invalid.",
			wantHint: "--profile",
		},
		{
			name:     "ec2 unauthorized",
			replies:  map[string]reply{"DescribeInstances": ec2Err("UnauthorizedOperation", "You are not authorized to perform this operation.")},
			req:      Request{Task: "ecscompose-web--staging"},
			wantMsg:  "AWS credentials not allowed to call ec2:DescribeInstances in region us-east-1: You are not authorized to perform this operation.",
			wantHint: "IAM",
		},
		{
			name:    "ec2 instance gone",
			replies: map[string]reply{"DescribeInstances": {400, fixture(t, "ec2error.xml")}},
			req:     Request{Task: "ecscompose-web--staging"},
			wantMsg: `describe EC2 instance i-0123456789abcdef0 of cluster "web--staging" (guessed from task "ecscompose-web--staging") in region us-east-1: InvalidInstanceID.NotFound: The instance ID 'i-0000000000000000f' does not exist`,
		},
		{
			name: "no credentials",
			creds: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{}, errors.New("no EC2 IMDS role found")
			}),
			req:      Request{Task: "ecscompose-web--staging"},
			wantMsg:  "AWS credentials unavailable: no EC2 IMDS role found",
			wantHint: "aws sso login",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies := fixtureReplies(t)
			for op, r := range tt.replies {
				replies[op] = r
			}
			s := newAWSServer(t, replies)
			_, err := sdkResolver(s, tt.creds).Resolve(context.Background(), tt.req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if e.Msg != tt.wantMsg {
				t.Errorf("message:\n got %s\nwant %s", e.Msg, tt.wantMsg)
			}
			if !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("hint = %q, want it to contain %q", e.Hint, tt.wantHint)
			}
		})
	}
}
