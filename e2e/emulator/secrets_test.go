package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const (
	bedSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/web/db-Ab12Cd"
	bedPassword  = "pa$$ 'w0rd' \"dq\"\nsecond line ✓"
)

func secretClients(url string) (*ssm.Client, *secretsmanager.Client, *s3.Client) {
	cfg := sdkConfig()
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) }),
		secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) }),
		s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(url); o.UsePathStyle = true })
}

func TestGetParameters(t *testing.T) {
	s, url := start(t, nil)
	c, _, _ := secretClients(url)
	ctx := context.Background()
	out, err := c.GetParameters(ctx, &ssm.GetParametersInput{
		Names: []string{
			"/prod/web/feature-flags",
			"arn:aws:ssm:us-east-1:123456789012:parameter/prod/web/db-password",
			"api-token",
			"/prod/web/db-password:3",
			"/prod/web/db-password:2",
			"/prod/web/missing",
			"arn:aws:ssm:eu-west-1:123456789012:parameter/prod/web/db-password",
		},
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	type p struct{ Name, Type, Value, ARN, Selector string }
	var got []p
	for _, x := range out.Parameters {
		got = append(got, p{aws.ToString(x.Name), string(x.Type), aws.ToString(x.Value), aws.ToString(x.ARN), aws.ToString(x.Selector)})
	}
	want := []p{
		{"/prod/web/feature-flags", "String", "it's \"quoted\" $(touch /tmp/pwned) `id` $HOME", "arn:aws:ssm:us-east-1:123456789012:parameter/prod/web/feature-flags", ""},
		{"/prod/web/db-password", "SecureString", bedPassword, "arn:aws:ssm:us-east-1:123456789012:parameter/prod/web/db-password", ""},
		{"api-token", "SecureString", `tok-日本-\back\slash-%s-%n`, "arn:aws:ssm:us-east-1:123456789012:parameter/api-token", ""},
		{"/prod/web/db-password", "SecureString", bedPassword, "arn:aws:ssm:us-east-1:123456789012:parameter/prod/web/db-password", ":3"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parameters (-want +got):\n%s", diff)
	}
	wantInvalid := []string{"/prod/web/db-password:2", "/prod/web/missing", "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/web/db-password"}
	if diff := cmp.Diff(wantInvalid, out.InvalidParameters); diff != "" {
		t.Errorf("InvalidParameters (-want +got):\n%s", diff)
	}

	// Without decryption a SecureString is ciphertext, never the value.
	out, err = c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/prod/web/db-password"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(out.Parameters[0].Value); v == bedPassword || !strings.HasPrefix(v, "AQICAH") {
		t.Errorf("SecureString without decryption = %q, want ciphertext", v)
	}
	if out.Parameters[0].Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("Type = %q", out.Parameters[0].Type)
	}

	// More than ten names is the API's validation error.
	_, err = c.GetParameters(ctx, &ssm.GetParametersInput{Names: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		t.Errorf("11 names: %v, want ValidationException", err)
	}

	calls := s.Calls()
	if len(calls) != 3 || calls[0].Service != "ssm" || calls[0].Op != "GetParameters" || calls[2].Error != "ValidationException" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestGetSecretValue(t *testing.T) {
	_, url := start(t, nil)
	_, c, _ := secretClients(url)
	ctx := context.Background()
	const (
		current  = `{"username":"admin","password":"s3cr3t \"q\" $(id) ✓","port":5432}`
		previous = "{\"username\":\"admin\",\"password\":\"old-pässword `id`\"}"
	)
	tests := []struct {
		name       string
		in         secretsmanager.GetSecretValueInput
		want       string
		wantStages []string
	}{
		{"by ARN", secretsmanager.GetSecretValueInput{SecretId: aws.String(bedSecretARN)}, current, []string{"AWSCURRENT"}},
		{"by name", secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/web/db")}, current, []string{"AWSCURRENT"}},
		{"by partial ARN", secretsmanager.GetSecretValueInput{SecretId: aws.String(strings.TrimSuffix(bedSecretARN, "-Ab12Cd"))}, current, []string{"AWSCURRENT"}},
		{"previous stage", secretsmanager.GetSecretValueInput{SecretId: aws.String(bedSecretARN), VersionStage: aws.String("AWSPREVIOUS")}, previous, []string{"AWSPREVIOUS"}},
		{"version id", secretsmanager.GetSecretValueInput{SecretId: aws.String(bedSecretARN), VersionId: aws.String("00000000-0000-4000-8000-000000000000")}, previous, []string{"AWSPREVIOUS"}},
		{"version id and its stage", secretsmanager.GetSecretValueInput{SecretId: aws.String(bedSecretARN), VersionId: aws.String("11111111-1111-4111-8111-111111111111"), VersionStage: aws.String("AWSCURRENT")}, current, []string{"AWSCURRENT"}},
	}
	for _, tt := range tests {
		out, err := c.GetSecretValue(ctx, &tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := aws.ToString(out.SecretString); got != tt.want {
			t.Errorf("%s: SecretString = %q, want %q", tt.name, got, tt.want)
		}
		if aws.ToString(out.ARN) != bedSecretARN || aws.ToString(out.Name) != "prod/web/db" || !slices.Equal(out.VersionStages, tt.wantStages) || aws.ToString(out.VersionId) == "" {
			t.Errorf("%s: ARN %q Name %q VersionId %q VersionStages %q", tt.name, aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(out.VersionId), out.VersionStages)
		}
	}

	for _, in := range []secretsmanager.GetSecretValueInput{
		{SecretId: aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf")},
		{SecretId: aws.String(bedSecretARN), VersionStage: aws.String("AWSPENDING")},
		{SecretId: aws.String(bedSecretARN), VersionId: aws.String("no-such-version")},
		{SecretId: aws.String(bedSecretARN), VersionId: aws.String("11111111-1111-4111-8111-111111111111"), VersionStage: aws.String("AWSPREVIOUS")},
	} {
		_, err := c.GetSecretValue(ctx, &in)
		var nf *smtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("GetSecretValue(%s, %s, %s) = %v, want ResourceNotFoundException", aws.ToString(in.SecretId), aws.ToString(in.VersionStage), aws.ToString(in.VersionId), err)
		}
	}
}

func TestGetObject(t *testing.T) {
	s, url := start(t, nil)
	_, _, c := secretClients(url)
	ctx := context.Background()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssh-ecs-e2e-config"), Key: aws.String("web/app.env")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "OVERRIDE_ME=from file\n") || !strings.Contains(string(b), "UNICODE_FILE=héllo ✓ 日本\n") {
		t.Errorf("object = %q", b)
	}

	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssh-ecs-e2e-config"), Key: aws.String("web/missing.env")})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("missing key: %v, want NoSuchKey", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-bucket"), Key: aws.String("x.env")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchBucket" {
		t.Errorf("missing bucket: %v, want NoSuchBucket", err)
	}

	calls := s.Calls()
	if len(calls) != 3 || calls[0].Service != "s3" || calls[0].Op != "GetObject" || calls[0].Params.Get("Key") != "web/app.env" ||
		calls[1].Status != http.StatusNotFound || calls[1].Error != "NoSuchKey" {
		t.Errorf("calls = %+v", calls)
	}
}

// TestSecretServicesBesideECS checks the routing: every service on one URL.
func TestSecretServicesBesideECS(t *testing.T) {
	s, url := start(t, nil)
	ecsc, ec2c := clients(url)
	p, sm, o := secretClients(url)
	ctx := context.Background()
	if err := listClusters(ecsc, ec2c); err != nil {
		t.Fatal(err)
	}
	if err := describeInstance(ecsc, ec2c); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"api-token"}, WithDecryption: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/web/db")}); err != nil {
		t.Fatal(err)
	}
	out, err := o.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssh-ecs-e2e-config"), Key: aws.String("web/app.env")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	want := []string{"ecs:ListClusters", "ec2:DescribeInstances", "ssm:GetParameters", "secretsmanager:GetSecretValue", "s3:GetObject"}
	if diff := cmp.Diff(want, ops(s.Calls())); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSecretFaults(t *testing.T) {
	s, url := start(t, nil)
	p, _, o := secretClients(url)
	ctx := context.Background()
	s.SetFault("GetParameters", Fault{Throttle: 1})
	s.SetFault("GetObject", Fault{ServerError: 1})
	if _, err := p.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"api-token"}}); err != nil {
		t.Errorf("GetParameters after one throttle: %v", err)
	}
	out, err := o.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssh-ecs-e2e-config"), Key: aws.String("web/app.env")})
	if err != nil {
		t.Fatalf("GetObject after one server error: %v", err)
	}
	out.Body.Close()
	var codes []string
	for _, c := range s.Calls() {
		codes = append(codes, c.Op+":"+c.Error)
	}
	want := []string{"GetParameters:ThrottlingException", "GetParameters:", "GetObject:InternalError", "GetObject:"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSecretStateValidation(t *testing.T) {
	for name, fixture := range map[string]string{
		"parameter without name": `{"clusters":[],"instances":[],"taskDefinitions":[],"parameters":[{"value":"x"}]}`,
		"parameter type":         `{"clusters":[],"instances":[],"taskDefinitions":[],"parameters":[{"name":"a","type":"Secret","value":"x"}]}`,
		"secret without current": `{"clusters":[],"instances":[],"taskDefinitions":[],"secrets":[{"name":"s","versions":[{"versionStages":["AWSPREVIOUS"],"secretString":"x"}]}]}`,
		"secret stage twice":     `{"clusters":[],"instances":[],"taskDefinitions":[],"secrets":[{"name":"s","versions":[{"versionStages":["AWSCURRENT"],"secretString":"x"},{"versionStages":["AWSCURRENT"],"secretString":"y"}]}]}`,
		"object key":             `{"clusters":[],"instances":[],"taskDefinitions":[],"objects":{"bucket-only":"x"}}`,
		"unknown member":         `{"clusters":[],"instances":[],"taskDefinitions":[],"parameters":[{"name":"a","value":"x","tier":"Advanced"}]}`,
	} {
		if _, err := ParseState([]byte(fixture)); err == nil {
			t.Errorf("%s: ParseState accepted %s", name, fixture)
		}
	}
	st, err := ParseState([]byte(`{"clusters":[],"instances":[],"taskDefinitions":[],"secrets":[{"name":"s","versions":[{"secretString":"x"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := st.Secrets[0]; !strings.HasPrefix(v.ARN, "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-") || len(v.ARN) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:s-")+6 ||
		!slices.Equal(v.Versions[0].Stages, []string{"AWSCURRENT"}) || v.Versions[0].ID == "" {
		t.Errorf("defaults not filled: %+v", v)
	}
}
