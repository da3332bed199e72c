package ecs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// fakeSSM answers GetParameters from params (by name or ARN); a name it
// does not know is an invalid parameter. err, when set, fails every call.
type fakeSSM struct {
	params map[string]string
	err    error
	// in, when set, is called with each input before it is answered (it may block).
	in func(*ssm.GetParametersInput)

	mu      sync.Mutex
	calls   [][]string
	regions []string
}

func (f *fakeSSM) GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	var o ssm.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.mu.Lock()
	f.calls = append(f.calls, slices.Clone(in.Names))
	f.regions = append(f.regions, o.Region)
	f.mu.Unlock()
	if f.in != nil {
		f.in(in)
	}
	if f.err != nil {
		return nil, f.err
	}
	if in.WithDecryption == nil || !*in.WithDecryption {
		return nil, errors.New("GetParameters without WithDecryption")
	}
	if len(in.Names) > 10 {
		return nil, apiErr("ValidationException", "at most 10 names")
	}
	out := &ssm.GetParametersOutput{}
	for _, n := range in.Names {
		v, ok := f.params[n]
		if !ok {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		name, arn := n, "arn:aws:ssm:us-east-1:123456789012:parameter/"+strings.TrimPrefix(n, "/")
		if strings.HasPrefix(n, "arn:") {
			arn = n
			name = "/" + n[strings.Index(n, ":parameter/")+len(":parameter/"):]
		}
		out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: aws.String(name), ARN: aws.String(arn), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString})
	}
	return out, nil
}

// fakeSecrets answers GetSecretValue from secrets, keyed by
// "id|stage|versionId".
type fakeSecrets struct {
	secrets map[string]string
	err     error

	mu      sync.Mutex
	calls   []string
	regions []string
}

func (f *fakeSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	var o secretsmanager.Options
	for _, fn := range optFns {
		fn(&o)
	}
	k := aws.ToString(in.SecretId) + "|" + aws.ToString(in.VersionStage) + "|" + aws.ToString(in.VersionId)
	f.mu.Lock()
	f.calls = append(f.calls, k)
	f.regions = append(f.regions, o.Region)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.secrets[k]
	if !ok {
		return nil, apiErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v), ARN: in.SecretId}, nil
}

// fakeS3 answers GetObject from objects, keyed by "bucket/key".
type fakeS3 struct {
	objects map[string]string
	err     error
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	v, ok := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, apiErr("NoSuchKey", "The specified key does not exist.")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(v))}, nil
}

const smARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"

func TestParseValueFrom(t *testing.T) {
	tests := []struct {
		valueFrom string
		want      secretRef
	}{
		{"db-password", secretRef{kind: kindSSM, region: "us-east-1", id: "db-password"}},
		{"/prod/db/password", secretRef{kind: kindSSM, region: "us-east-1", id: "/prod/db/password"}},
		{"/prod/db/password:3", secretRef{kind: kindSSM, region: "us-east-1", id: "/prod/db/password:3"}},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db", secretRef{kind: kindSSM, region: "eu-west-1", id: "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db"}},
		{smARN, secretRef{kind: kindSecretsManager, region: "us-east-1", id: smARN}},
		{smARN + ":password::", secretRef{kind: kindSecretsManager, region: "us-east-1", id: smARN, jsonKey: "password", hasKey: true}},
		{smARN + "::AWSCURRENT:", secretRef{kind: kindSecretsManager, region: "us-east-1", id: smARN, stage: "AWSCURRENT", hasStage: true}},
		{smARN + ":password:AWSPREVIOUS", secretRef{kind: kindSecretsManager, region: "us-east-1", id: smARN, jsonKey: "password", hasKey: true, stage: "AWSPREVIOUS", hasStage: true}},
		{smARN + ":::0123-abcd", secretRef{kind: kindSecretsManager, region: "us-east-1", id: smARN, versionID: "0123-abcd", hasVerID: true}},
		{"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x", secretRef{kind: kindSecretsManager, region: "cn-north-1", id: "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x"}},
	}
	for _, tt := range tests {
		got, err := parseValueFrom(SecretRef{Name: "V", ValueFrom: tt.valueFrom}, "us-east-1")
		if err != nil {
			t.Errorf("parseValueFrom(%q): %v", tt.valueFrom, err)
			continue
		}
		tt.want.name, tt.want.valueFrom = "V", tt.valueFrom
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(secretRef{})); diff != "" {
			t.Errorf("parseValueFrom(%q) (-want +got):\n%s", tt.valueFrom, diff)
		}
	}

	for _, bad := range []string{
		"",
		"arn:aws:s3:::bucket/key",
		"arn:aws:ssm:us-east-1:123456789012:document/x",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:",
		smARN + ":k:s:v:extra",
		"arn:aws",
	} {
		_, err := parseValueFrom(SecretRef{Name: "DB_PASSWORD", ValueFrom: bad}, "us-east-1")
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("parseValueFrom(%q) = %v, want *Error", bad, err)
			continue
		}
		if !strings.Contains(e.Msg, "DB_PASSWORD") || !strings.Contains(e.Msg, fmt.Sprintf("%q", bad)) || e.Hint == "" {
			t.Errorf("parseValueFrom(%q) error %q (hint %q) does not name the secret and its valueFrom", bad, e.Msg, e.Hint)
		}
	}
}

func TestParseEnvFile(t *testing.T) {
	in := "# a comment\n" +
		"\n" +
		"PLAIN=value\n" +
		"QUOTED=\"kept\" 'as is'\n" +
		"DOLLAR=$(touch /tmp/pwned) $HOME `id`\n" +
		"EQUALS=a=b=c\n" +
		"  # not a comment: the name has spaces=x\n" +
		"NOVALUE=\n" +
		"=novalue\n" +
		"no equals sign\n" +
		"CRLF=dos\r\n" +
		"UNICODE=héllo ✓ 日本\n" +
		"PLAIN=later wins\n" +
		"LAST=no newline"
	want := []dockercmd.EnvVar{
		{Name: "PLAIN", Value: "later wins"},
		{Name: "QUOTED", Value: `"kept" 'as is'`},
		{Name: "DOLLAR", Value: "$(touch /tmp/pwned) $HOME `id`"},
		{Name: "EQUALS", Value: "a=b=c"},
		{Name: "  # not a comment: the name has spaces", Value: "x"},
		{Name: "CRLF", Value: "dos"},
		{Name: "UNICODE", Value: "héllo ✓ 日本"},
		{Name: "LAST", Value: "no newline"},
	}
	if diff := cmp.Diff(want, parseEnvFile([]byte(in))); diff != "" {
		t.Errorf("parseEnvFile (-want +got):\n%s", diff)
	}
}

func TestSecretsWarning(t *testing.T) {
	refs := []SecretRef{{Name: "DB_PASSWORD", ValueFrom: "/db"}, {Name: "API_KEY", ValueFrom: smARN}}
	files := []string{"arn:aws:s3:::b/app.env"}
	tests := []struct {
		refs  []SecretRef
		files []string
		want  string
	}{
		{nil, nil, ""},
		{refs, files, `container "app": secrets not copied: DB_PASSWORD, API_KEY; environment files not copied: arn:aws:s3:::b/app.env; pass --with-secrets to read them with your AWS credentials`},
		{refs[:1], nil, `container "app": secrets not copied: DB_PASSWORD; pass --with-secrets to read them with your AWS credentials`},
		{nil, files, `container "app": environment files not copied: arn:aws:s3:::b/app.env; pass --with-secrets to read them with your AWS credentials`},
	}
	for _, tt := range tests {
		if got := secretsWarning("app", tt.refs, tt.files); got != tt.want {
			t.Errorf("secretsWarning(%v, %v) = %q, want %q", tt.refs, tt.files, got, tt.want)
		}
	}
}

// The values below must reach the environment exactly and never appear in
// an error.
const (
	vSSMPlain  = "plain-ssm-value"
	vSSMSecure = "s3cure 'q' \"dq\" $(touch /tmp/pwned)\nline2"
	vSMWhole   = `{"username":"admin","password":"p@ss ✓ $HOME","port":5432,"opts":{"tls":true}}`
	vSMOld     = `{"password":"old-password"}`
)

func TestResolveSecretsPrecedence(t *testing.T) {
	c := &SecretClients{
		Region: "us-east-1",
		SSM: &fakeSSM{params: map[string]string{
			"plain": vSSMPlain,
			"arn:aws:ssm:us-east-1:123456789012:parameter/prod/secure": vSSMSecure,
		}},
		Secrets: &fakeSecrets{secrets: map[string]string{
			smARN + "||":            vSMWhole,
			smARN + "|AWSPREVIOUS|": vSMOld,
		}},
		S3: &fakeS3{objects: map[string]string{
			"cfg/a.env": "FROM_FILE=a\nSHARED=from a\nOVERRIDDEN=from file\nSECRET_WINS=from file\n",
			"cfg/b.env": "SHARED=from b\nONLY_B=b\n",
		}},
	}
	target := &Target{
		Container: dockercmd.Spec{Name: "web", Env: []dockercmd.EnvVar{
			{Name: "PLAIN", Value: "p"},
			{Name: "OVERRIDDEN", Value: "from environment"},
			{Name: "SECRET_WINS", Value: "from environment"},
		}},
		Secrets: []SecretRef{
			{Name: "SSM_PLAIN", ValueFrom: "plain"},
			{Name: "SSM_SECURE", ValueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/prod/secure"},
			{Name: "SM_WHOLE", ValueFrom: smARN},
			{Name: "SM_PASSWORD", ValueFrom: smARN + ":password::"},
			{Name: "SM_PORT", ValueFrom: smARN + ":port:AWSCURRENT:"},
			{Name: "SM_OPTS", ValueFrom: smARN + ":opts"},
			{Name: "SM_OLD", ValueFrom: smARN + ":password:AWSPREVIOUS:"},
			{Name: "SECRET_WINS", ValueFrom: "plain"},
		},
		EnvironmentFiles: []string{"arn:aws:s3:::cfg/a.env", "arn:aws:s3:::cfg/b.env"},
	}
	// SM_PORT asks for AWSCURRENT explicitly: a separate call.
	c.Secrets.(*fakeSecrets).secrets[smARN+"|AWSCURRENT|"] = vSMWhole

	got, err := ResolveSecrets(context.Background(), c, target)
	if err != nil {
		t.Fatal(err)
	}
	want := []dockercmd.EnvVar{
		{Name: "FROM_FILE", Value: "a"},
		{Name: "SHARED", Value: "from a"},
		{Name: "OVERRIDDEN", Value: "from environment"},
		{Name: "SECRET_WINS", Value: vSSMPlain},
		{Name: "ONLY_B", Value: "b"},
		{Name: "PLAIN", Value: "p"},
		{Name: "SSM_PLAIN", Value: vSSMPlain},
		{Name: "SSM_SECURE", Value: vSSMSecure},
		{Name: "SM_WHOLE", Value: vSMWhole},
		{Name: "SM_PASSWORD", Value: "p@ss ✓ $HOME"},
		{Name: "SM_PORT", Value: "5432"},
		{Name: "SM_OPTS", Value: `{"tls":true}`},
		{Name: "SM_OLD", Value: "old-password"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResolveSecrets (-want +got):\n%s", diff)
	}
	// The task's own spec is not changed.
	if len(target.Container.Env) != 3 || target.Container.Env[2].Value != "from environment" {
		t.Errorf("ResolveSecrets changed the target's environment: %v", target.Container.Env)
	}
	// One call per distinct secret version; "plain" asked once.
	fs := c.Secrets.(*fakeSecrets)
	slices.Sort(fs.calls)
	wantCalls := []string{smARN + "||", smARN + "|AWSCURRENT|", smARN + "|AWSPREVIOUS|"}
	slices.Sort(wantCalls)
	if diff := cmp.Diff(wantCalls, fs.calls); diff != "" {
		t.Errorf("GetSecretValue calls (-want +got):\n%s", diff)
	}
	if calls := c.SSM.(*fakeSSM).calls; len(calls) != 1 || len(calls[0]) != 2 {
		t.Errorf("GetParameters calls = %q, want one with 2 distinct names", calls)
	}
}

func TestResolveSecretsBatches(t *testing.T) {
	params := map[string]string{}
	var refs []SecretRef
	for i := range 23 {
		name := fmt.Sprintf("/app/p%02d", i)
		params[name] = fmt.Sprintf("value-%02d", i)
		refs = append(refs, SecretRef{Name: fmt.Sprintf("P%02d", i), ValueFrom: name})
	}
	// Every batch waits until all three are in flight: they must run
	// concurrently, or the test fails at the guard.
	var arrived sync.WaitGroup
	arrived.Add(3)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	stop := guard()
	fake := &fakeSSM{params: params, in: func(*ssm.GetParametersInput) {
		arrived.Done()
		select {
		case <-all:
		case <-stop:
		}
	}}
	c := &SecretClients{Region: "us-east-1", SSM: fake}
	got, err := ResolveSecrets(context.Background(), c, &Target{Container: dockercmd.Spec{Name: "web"}, Secrets: refs})
	select {
	case <-all:
	default:
		t.Fatal("the GetParameters batches did not run concurrently")
	}
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	seen := map[string]int{}
	for _, call := range fake.calls {
		sizes = append(sizes, len(call))
		for _, n := range call {
			seen[n]++
		}
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{3, 10, 10}) {
		t.Errorf("batch sizes = %v, want 3, 10, 10", sizes)
	}
	if len(seen) != 23 {
		t.Errorf("%d distinct names asked, want 23", len(seen))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s asked %d times", n, k)
		}
	}
	for i, v := range got {
		if want := (dockercmd.EnvVar{Name: fmt.Sprintf("P%02d", i), Value: fmt.Sprintf("value-%02d", i)}); v != want {
			t.Errorf("env[%d] = %v, want %v", i, v, want)
		}
	}
}

func TestResolveSecretsRegionFromARN(t *testing.T) {
	fssm := &fakeSSM{params: map[string]string{"arn:aws:ssm:eu-west-1:123456789012:parameter/x": "v", "local": "l"}}
	fsm := &fakeSecrets{secrets: map[string]string{"arn:aws:secretsmanager:ap-south-1:123456789012:secret:s||": "w"}}
	c := &SecretClients{Region: "us-east-1", SSM: fssm, Secrets: fsm}
	_, err := ResolveSecrets(context.Background(), c, &Target{Secrets: []SecretRef{
		{Name: "A", ValueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/x"},
		{Name: "B", ValueFrom: "local"},
		{Name: "C", ValueFrom: "arn:aws:secretsmanager:ap-south-1:123456789012:secret:s"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	byRegion := map[string][]string{}
	for i, r := range fssm.regions {
		byRegion[r] = fssm.calls[i]
	}
	// "" = the client's own region.
	want := map[string][]string{"eu-west-1": {"arn:aws:ssm:eu-west-1:123456789012:parameter/x"}, "": {"local"}}
	if diff := cmp.Diff(want, byRegion); diff != "" {
		t.Errorf("GetParameters by region (-want +got):\n%s", diff)
	}
	if !slices.Equal(fsm.regions, []string{"ap-south-1"}) {
		t.Errorf("GetSecretValue regions = %q, want ap-south-1", fsm.regions)
	}
}

func TestResolveSecretsErrors(t *testing.T) {
	good := func() *SecretClients {
		return &SecretClients{
			Region:  "us-east-1",
			SSM:     &fakeSSM{params: map[string]string{"plain": vSSMPlain}},
			Secrets: &fakeSecrets{secrets: map[string]string{smARN + "||": vSMWhole, "arn:aws:secretsmanager:us-east-1:123456789012:secret:text||": vSSMSecure}},
			S3:      &fakeS3{objects: map[string]string{"cfg/a.env": "A=" + vSSMPlain + "\n", "cfg/big.env": strings.Repeat("X=y\n", maxEnvFile/4+1)}},
		}
	}
	tests := []struct {
		name    string
		breakIt func(c *SecretClients)
		secrets []SecretRef
		files   []string
		want    []string // in Msg
		hint    string
	}{
		{
			name:    "missing parameters named with their variables",
			secrets: []SecretRef{{Name: "OK", ValueFrom: "plain"}, {Name: "DB_PASSWORD", ValueFrom: "/prod/missing"}, {Name: "OTHER", ValueFrom: "/prod/missing"}, {Name: "X", ValueFrom: "gone"}},
			want:    []string{`container "web"`, "us-east-1", "/prod/missing (for DB_PASSWORD, OTHER)", "gone (for X)"},
			hint:    "aws ssm get-parameters",
		},
		{
			name: "parameter access denied",
			breakIt: func(c *SecretClients) {
				c.SSM.(*fakeSSM).err = apiErr("AccessDeniedException", "User is not authorized to perform ssm:GetParameters")
			},
			secrets: []SecretRef{{Name: "DB_PASSWORD", ValueFrom: "plain"}},
			want:    []string{"not allowed", "plain", "us-east-1"},
			hint:    "ssm:GetParameters",
		},
		{
			name:    "secret not found",
			secrets: []SecretRef{{Name: "API_KEY", ValueFrom: smARN + "::AWSPENDING:"}},
			want:    []string{"API_KEY", smARN, "version stage AWSPENDING", "not found", "us-east-1"},
			hint:    "list-secret-version-ids",
		},
		{
			name: "secret access denied",
			breakIt: func(c *SecretClients) {
				c.Secrets.(*fakeSecrets).err = apiErr("AccessDeniedException", "not authorized")
			},
			secrets: []SecretRef{{Name: "API_KEY", ValueFrom: smARN}},
			want:    []string{"not allowed", "API_KEY", "us-east-1"},
			hint:    "secretsmanager:GetSecretValue",
		},
		{
			name:    "secret KMS failure",
			breakIt: func(c *SecretClients) { c.Secrets.(*fakeSecrets).err = apiErr("DecryptionFailure", "KMS said no") },
			secrets: []SecretRef{{Name: "API_KEY", ValueFrom: smARN}},
			want:    []string{"decrypt", "API_KEY"},
			hint:    "kms:Decrypt",
		},
		{
			name:    "missing JSON key",
			secrets: []SecretRef{{Name: "API_KEY", ValueFrom: smARN + ":nokey"}},
			want:    []string{"API_KEY", `no JSON key "nokey"`, "opts, password, port, username"},
		},
		{
			name:    "JSON key of a secret that is no JSON object",
			secrets: []SecretRef{{Name: "API_KEY", ValueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:text:k"}},
			want:    []string{"API_KEY", "not a JSON object", `"k"`},
		},
		{
			name:  "missing environment file",
			files: []string{"arn:aws:s3:::cfg/missing.env"},
			want:  []string{"arn:aws:s3:::cfg/missing.env", "not found", "missing.env"},
		},
		{
			name:    "environment file access denied",
			breakIt: func(c *SecretClients) { c.S3.(*fakeS3).err = apiErr("AccessDenied", "Access Denied") },
			files:   []string{"arn:aws:s3:::cfg/a.env"},
			want:    []string{"not allowed", "arn:aws:s3:::cfg/a.env", "us-east-1"},
			hint:    "s3:GetObject",
		},
		{
			name:  "environment file too large",
			files: []string{"arn:aws:s3:::cfg/big.env"},
			want:  []string{"arn:aws:s3:::cfg/big.env", "larger than 1 MiB"},
		},
		{
			name:  "environment file that is no S3 ARN",
			files: []string{"s3://cfg/a.env"},
			want:  []string{`"s3://cfg/a.env"`, "not an S3 object ARN"},
		},
		{
			name: "expired credentials",
			breakIt: func(c *SecretClients) {
				c.SSM.(*fakeSSM).err = apiErr("ExpiredTokenException", "The security token included in the request is expired")
			},
			secrets: []SecretRef{{Name: "DB_PASSWORD", ValueFrom: "plain"}},
			want:    []string{"credentials", "us-east-1"},
			hint:    "aws sso login",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			if tt.breakIt != nil {
				tt.breakIt(c)
			}
			env, err := ResolveSecrets(context.Background(), c, &Target{
				Container:        dockercmd.Spec{Name: "web", Env: []dockercmd.EnvVar{{Name: "PLAIN", Value: "visible"}}},
				Secrets:          tt.secrets,
				EnvironmentFiles: tt.files,
			})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ResolveSecrets = %v, %v; want an *Error", env, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("error %q does not contain %q", e.Msg, w)
				}
			}
			if !strings.Contains(e.Hint, tt.hint) {
				t.Errorf("hint %q does not contain %q", e.Hint, tt.hint)
			}
			for _, v := range []string{vSSMPlain, "s3cure", "p@ss", "admin", "5432", "old-password"} {
				if strings.Contains(e.Msg+e.Hint+err.Error(), v) {
					t.Errorf("error %q (hint %q) shows the secret value %q", e.Msg, e.Hint, v)
				}
			}
		})
	}
}

func TestResolveWithSecretsDropsTheWarning(t *testing.T) {
	for _, with := range []bool{false, true} {
		s := newAWSServer(t, fixtureReplies(t))
		got, err := sdkResolver(s, nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", WithSecrets: with})
		if err != nil {
			t.Fatal(err)
		}
		warned := slices.ContainsFunc(got.Warnings, func(w string) bool { return strings.Contains(w, "--with-secrets") })
		if warned == with {
			t.Errorf("WithSecrets %v: warnings %q", with, got.Warnings)
		}
		if len(got.Secrets) != 1 || len(got.EnvironmentFiles) != 1 {
			t.Errorf("WithSecrets %v: Secrets %v, EnvironmentFiles %v; want the task's references", with, got.Secrets, got.EnvironmentFiles)
		}
	}
}

// TestNewSecretClientsPathStyle checks that a custom endpoint makes S3 use
// path-style addresses (the emulator has no wildcard DNS) and that SSM and
// Secrets Manager use it too.
func TestNewSecretClientsPathStyle(t *testing.T) {
	isolate(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		switch {
		case r.Header.Get("X-Amz-Target") == "AmazonSSM.GetParameters":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"Parameters":[{"Name":"p","Value":"v","Type":"String","Version":1}],"InvalidParameters":[]}`)
		case r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"ARN":"`+smARN+`","Name":"app/db","SecretString":"s","VersionId":"v1","VersionStages":["AWSCURRENT"]}`)
		default:
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "F=1\n")
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	c, err := NewSecretClients(context.Background(), "", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	env, err := ResolveSecrets(context.Background(), c, &Target{
		Secrets:          []SecretRef{{Name: "P", ValueFrom: "p"}, {Name: "S", ValueFrom: smARN}},
		EnvironmentFiles: []string{"arn:aws:s3:::my-bucket/dir/app.env"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []dockercmd.EnvVar{{Name: "F", Value: "1"}, {Name: "P", Value: "v"}, {Name: "S", Value: "s"}}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if !slices.Contains(seen, host+" /my-bucket/dir/app.env ") {
		t.Errorf("requests %q: want a path-style GET of /my-bucket/dir/app.env on %s", seen, host)
	}
}
