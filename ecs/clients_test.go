package ecs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/windows/winetest"
)

// isolate points the SDK's default chain at empty files and clears the
// variables that could reach a real account or the network.
func isolate(t *testing.T) {
	t.Helper()
	dir := winetest.TempDir(t)
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[profile other]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_EC2",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir)
}

func TestNewClientsErrors(t *testing.T) {
	tests := []struct {
		name, profile, region string
		wantMsg, wantHint     string
	}{
		{name: "no region", wantMsg: "no AWS region configured", wantHint: "--region"},
		{name: "unknown profile", profile: "nope", region: "us-east-1", wantMsg: `AWS profile "nope" not found in the shared config or credentials files`, wantHint: "--profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			_, _, _, err := NewClients(context.Background(), tt.profile, tt.region)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if e.Msg != tt.wantMsg || !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("error = %q hint %q, want %q hint containing %q", e.Msg, e.Hint, tt.wantMsg, tt.wantHint)
			}
		})
	}
}

func TestNewClientsRegion(t *testing.T) {
	tests := []struct {
		name, profile, region, env string
		want                       string
	}{
		{name: "flag", region: "ap-northeast-1", env: "us-west-2", want: "ap-northeast-1"},
		{name: "environment", env: "us-west-2", want: "us-west-2"},
		{name: "profile", profile: "other", want: "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			if tt.env != "" {
				t.Setenv("AWS_REGION", tt.env)
			}
			_, _, got, err := NewClients(context.Background(), tt.profile, tt.region)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("region = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNewClientsEndpointVariables checks that the SDK's endpoint variables
// reach both clients: this is how the end-to-end tests use an emulator.
func TestNewClientsEndpointVariables(t *testing.T) {
	for _, vars := range [][]string{{"AWS_ENDPOINT_URL"}, {"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_EC2"}} {
		t.Run(strings.Join(vars, "+"), func(t *testing.T) {
			isolate(t)
			s := newAWSServer(t, fixtureReplies(t))
			for _, v := range vars {
				t.Setenv(v, s.URL)
			}
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			ecsc, ec2c, region, err := NewClients(context.Background(), "", "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			r := &Resolver{ECS: ecsc, EC2: ec2c, Region: region}
			got, err := r.Resolve(context.Background(), Request{Task: "ecscompose-web--staging"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Host != "10.0.0.157" {
				t.Errorf("Host = %q, want the fixture's 10.0.0.157", got.Host)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, op := range []string{"DescribeTaskDefinition", "ListContainerInstances", "DescribeContainerInstances", "DescribeInstances"} {
				if !slices.Contains(s.ops, op) {
					t.Errorf("%s did not reach the endpoint; calls: %v", op, s.ops)
				}
			}
		})
	}
}
