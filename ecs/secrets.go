package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// SecretRef is one entry of a container definition's `secrets`: the
// variable Name and where its value lives. ValueFrom is an SSM parameter
// name or ARN, or a Secrets Manager secret ARN optionally followed by
// :json-key:version-stage:version-id. It holds no value.
type SecretRef struct {
	Name      string
	ValueFrom string
}

// SSMAPI is the part of the SSM API that ResolveSecrets calls.
type SSMAPI interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// SecretsAPI is the part of the Secrets Manager API that ResolveSecrets calls.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// S3API is the part of the S3 API that ResolveSecrets calls.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var (
	_ SSMAPI     = (*ssm.Client)(nil)
	_ SecretsAPI = (*secretsmanager.Client)(nil)
	_ S3API      = (*s3.Client)(nil)
)

// SecretClients are the clients ResolveSecrets reads values with. Region is
// the task's region: parameters given by name, secrets without a region in
// their ARN and environment files are read there, and messages name it.
type SecretClients struct {
	SSM     SSMAPI
	Secrets SecretsAPI
	S3      S3API
	Region  string
}

// NewSecretClients loads the AWS configuration like NewClients (profile and
// region override the SDK's default chain; opts are applied last) and
// returns the SSM, Secrets Manager and S3 clients. The standard endpoint
// variables apply (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SSM, …); with a custom
// S3 endpoint, objects are addressed path-style (http://host/bucket/key),
// which is what emulators and S3-compatible stores serve. It does no
// network I/O of its own.
func NewSecretClients(ctx context.Context, profile, region string, opts ...func(*config.LoadOptions) error) (*SecretClients, error) {
	cfg, err := loadConfig(ctx, profile, region, opts)
	if err != nil {
		return nil, err
	}
	return &SecretClients{
		SSM:     ssm.NewFromConfig(cfg),
		Secrets: secretsmanager.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			if o.BaseEndpoint != nil {
				o.UsePathStyle = true
			}
			// Objects stored without a checksum are common; the SDK
			// would print a warning on stderr for each.
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
		Region: cfg.Region,
	}, nil
}

// containerSecrets lists the unresolved secrets and environment files of c.
func containerSecrets(c *ecstypes.ContainerDefinition) ([]SecretRef, []string) {
	var (
		refs  []SecretRef
		files []string
	)
	for _, s := range c.Secrets {
		refs = append(refs, SecretRef{Name: str(s.Name), ValueFrom: str(s.ValueFrom)})
	}
	for _, f := range c.EnvironmentFiles {
		files = append(files, str(f.Value))
	}
	return refs, files
}

// secretsWarning is the one line saying what was not copied without
// --with-secrets; "" when there is nothing.
func secretsWarning(container string, refs []SecretRef, files []string) string {
	var parts []string
	if len(refs) > 0 {
		names := make([]string, len(refs))
		for i, r := range refs {
			names[i] = r.Name
		}
		parts = append(parts, "secrets not copied: "+strings.Join(names, ", "))
	}
	if len(files) > 0 {
		parts = append(parts, "environment files not copied: "+strings.Join(files, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("container %q: %s; pass --with-secrets to read them with your AWS credentials", container, strings.Join(parts, "; "))
}

// Limits of ResolveSecrets.
const (
	ssmBatch       = 10      // names per GetParameters call (the API's maximum)
	maxEnvFile     = 1 << 20 // bytes per environment file
	maxConcurrency = 8       // calls in flight at once
)

// ResolveSecrets reads the values of t.Secrets and t.EnvironmentFiles with
// c and returns the container's whole environment, merged as ECS does:
// the environment files first (in order; an earlier file wins over a later
// one), then t.Container.Env overrides them, then the secrets override both.
// SSM parameters are read in batches of ten and all calls run concurrently.
//
// Errors are *Error values naming the variable, the parameter, secret or
// object, and the region, with a hint (e.g. the IAM permission that is
// missing). No value ever appears in an error.
func ResolveSecrets(ctx context.Context, c *SecretClients, t *Target) ([]dockercmd.EnvVar, error) {
	r := &secretResolver{c: c, container: t.Container.Name, sem: make(chan struct{}, maxConcurrency)}
	refs := make([]secretRef, len(t.Secrets))
	for i, s := range t.Secrets {
		ref, err := parseValueFrom(s, c.Region)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
	}
	files := make([]s3Object, len(t.EnvironmentFiles))
	for i, f := range t.EnvironmentFiles {
		obj, err := parseS3ARN(f)
		if err != nil {
			return nil, err
		}
		files[i] = obj
	}

	var (
		wg                        sync.WaitGroup
		fileVars                  = make([][]dockercmd.EnvVar, len(files))
		fileErrs                  = make([]error, len(files))
		ssmVals, smVals           map[string]string
		ssmErr, smErr             error
		ssmRefs, smRefs           []secretRef
		secretValues              = make([]dockercmd.EnvVar, len(refs))
		ssmIndexes, secretIndexes []int
	)
	for i, ref := range refs {
		if ref.kind == kindSSM {
			ssmRefs, ssmIndexes = append(ssmRefs, ref), append(ssmIndexes, i)
		} else {
			smRefs, secretIndexes = append(smRefs, ref), append(secretIndexes, i)
		}
	}
	for i, f := range files {
		wg.Go(func() { fileVars[i], fileErrs[i] = r.envFile(ctx, f) })
	}
	wg.Go(func() { ssmVals, ssmErr = r.parameters(ctx, ssmRefs) })
	wg.Go(func() { smVals, smErr = r.secrets(ctx, smRefs) })
	wg.Wait()

	if err := firstError(fileErrs, ssmErr, smErr); err != nil {
		return nil, err
	}
	for k, i := range ssmIndexes {
		secretValues[i] = dockercmd.EnvVar{Name: ssmRefs[k].name, Value: ssmVals[ssmRefs[k].key()]}
	}
	for k, i := range secretIndexes {
		v, err := smRefs[k].extract(smVals[smRefs[k].key()], r.container)
		if err != nil {
			return nil, err
		}
		secretValues[i] = dockercmd.EnvVar{Name: smRefs[k].name, Value: v}
	}
	return mergeEnv(fileVars, t.Container.Env, secretValues), nil
}

// firstError picks the error to report: environment files in order, then
// parameters, then secrets.
func firstError(fileErrs []error, rest ...error) error {
	for _, err := range slices.Concat(fileErrs, rest) {
		if err != nil {
			return err
		}
	}
	return nil
}

// mergeEnv applies ECS's precedence: the first environment file that sets a
// name wins among files, the plain environment overrides files, secrets
// override everything. Names keep the place where they first appeared.
func mergeEnv(files [][]dockercmd.EnvVar, env, secrets []dockercmd.EnvVar) []dockercmd.EnvVar {
	var out []dockercmd.EnvVar
	at := map[string]int{}
	set := func(v dockercmd.EnvVar, override bool) {
		if i, ok := at[v.Name]; ok {
			if override {
				out[i].Value = v.Value
			}
			return
		}
		at[v.Name] = len(out)
		out = append(out, v)
	}
	for _, f := range files {
		for _, v := range f {
			set(v, false)
		}
	}
	for _, v := range env {
		set(v, true)
	}
	for _, v := range secrets {
		set(v, true)
	}
	return out
}

// secretKind says where a secret's value lives.
type secretKind int

const (
	kindSSM secretKind = iota
	kindSecretsManager
)

// secretRef is a parsed SecretRef.
type secretRef struct {
	name      string // the variable
	valueFrom string // as written in the task definition
	kind      secretKind
	region    string // where to read it
	// SSM: the parameter name or ARN as GetParameters takes it.
	// Secrets Manager: the secret's ARN without the suffixes.
	id                         string
	jsonKey, stage, versionID  string // Secrets Manager only
	hasKey, hasStage, hasVerID bool
}

// key identifies one value to fetch: refs with equal keys share a call.
func (r secretRef) key() string {
	if r.kind == kindSSM {
		return r.region + "\x00" + r.id
	}
	return r.region + "\x00" + r.id + "\x00" + r.stage + "\x00" + r.versionID
}

// parseValueFrom classifies a secret's valueFrom: a Secrets Manager ARN, an
// SSM parameter ARN, or else an SSM parameter name in the task's region.
func parseValueFrom(s SecretRef, region string) (secretRef, error) {
	ref := secretRef{name: s.Name, valueFrom: s.ValueFrom, region: region, id: s.ValueFrom}
	bad := func(why string) (secretRef, error) {
		return secretRef{}, &Error{
			Msg:  fmt.Sprintf("secret %s: valueFrom %q %s", s.Name, s.ValueFrom, why),
			Hint: "valueFrom is an SSM parameter name or ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[:JSON-KEY[:VERSION-STAGE[:VERSION-ID]]])",
		}
	}
	if s.ValueFrom == "" {
		return bad("is empty")
	}
	if !strings.HasPrefix(s.ValueFrom, "arn:") {
		return ref, nil
	}
	parts := strings.Split(s.ValueFrom, ":")
	if len(parts) < 6 {
		return bad("is not a valid ARN")
	}
	if parts[3] != "" {
		ref.region = parts[3]
	}
	switch parts[2] {
	case "ssm":
		if !strings.HasPrefix(strings.Join(parts[5:], ":"), "parameter/") {
			return bad("is an SSM ARN but not a parameter's")
		}
		return ref, nil
	case "secretsmanager":
		if len(parts) < 7 || parts[5] != "secret" || parts[6] == "" {
			return bad("is a Secrets Manager ARN but not a secret's")
		}
		if len(parts) > 10 {
			return bad("has more fields than JSON-KEY:VERSION-STAGE:VERSION-ID")
		}
		ref.kind = kindSecretsManager
		ref.id = strings.Join(parts[:7], ":")
		extra := append(parts[7:], "", "", "")
		ref.jsonKey, ref.stage, ref.versionID = extra[0], extra[1], extra[2]
		ref.hasKey, ref.hasStage, ref.hasVerID = ref.jsonKey != "", ref.stage != "", ref.versionID != ""
		return ref, nil
	}
	return bad("is neither an SSM parameter nor a Secrets Manager secret")
}

// describe names the secret for messages: the variable and where it comes
// from, never its value.
func (r secretRef) describe() string {
	return fmt.Sprintf("%s (valueFrom %s)", r.name, r.valueFrom)
}

// extract returns the variable's value from the secret's string: the whole
// string, or one key of the JSON object it holds (a non-string member is
// passed as JSON text).
func (r secretRef) extract(secret, container string) (string, error) {
	if !r.hasKey {
		return secret, nil
	}
	var obj map[string]json.RawMessage
	// The decoder's error text can quote the value: never show it.
	if err := json.Unmarshal([]byte(secret), &obj); err != nil || obj == nil {
		return "", &Error{
			Msg:  fmt.Sprintf("secret %s of container %q: the secret is not a JSON object, so its key %q cannot be read", r.describe(), container, r.jsonKey),
			Hint: "store the secret as a JSON object, or drop the JSON key from valueFrom to use the whole secret",
		}
	}
	raw, ok := obj[r.jsonKey]
	if !ok {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return "", &Error{
			Msg:  fmt.Sprintf("secret %s of container %q: the secret has no JSON key %q (keys: %s)", r.describe(), container, r.jsonKey, strings.Join(keys, ", ")),
			Hint: "check the JSON key in valueFrom (arn…:secret:NAME:JSON-KEY:VERSION-STAGE:VERSION-ID)",
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw), nil
	}
	return b.String(), nil
}

// secretResolver reads the values for one container.
type secretResolver struct {
	c         *SecretClients
	container string
	sem       chan struct{} // bounds the calls in flight
}

// call runs f while holding a slot of the semaphore.
func (r *secretResolver) call(ctx context.Context, f func() error) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()
	return f()
}

// parameters reads the SSM parameters of refs, ten names per call, and
// returns the values by secretRef.key.
func (r *secretResolver) parameters(ctx context.Context, refs []secretRef) (map[string]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	// One list of distinct names per region, in task order.
	var regions []string
	names := map[string][]string{}
	users := map[string][]string{} // key → the variables that use it
	for _, ref := range refs {
		k := ref.key()
		if _, seen := users[k]; !seen {
			if _, ok := names[ref.region]; !ok {
				regions = append(regions, ref.region)
			}
			names[ref.region] = append(names[ref.region], ref.id)
		}
		users[k] = append(users[k], ref.name)
	}
	type batch struct {
		region string
		names  []string
	}
	var batches []batch
	for _, region := range regions {
		for chunk := range slices.Chunk(names[region], ssmBatch) {
			batches = append(batches, batch{region, chunk})
		}
	}

	var (
		mu      sync.Mutex
		values  = map[string]string{}
		invalid []string // keys
		errs    = make([]error, len(batches))
		wg      sync.WaitGroup
	)
	for i, b := range batches {
		wg.Go(func() {
			errs[i] = r.call(ctx, func() error {
				out, err := r.c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: b.names, WithDecryption: aws.Bool(true)}, r.ssmRegion(b.region))
				if err != nil {
					return r.translate(b.region, "ssm:GetParameters",
						fmt.Sprintf("read SSM parameters %s", strings.Join(b.names, ", ")),
						"the role or user needs ssm:GetParameters on these parameters, and kms:Decrypt on the KMS key of SecureString ones", err)
				}
				got := map[string]string{}
				for _, p := range out.Parameters {
					v := str(p.Value)
					for _, n := range []string{str(p.Name), str(p.ARN)} {
						if n == "" {
							continue
						}
						got[n] = v
						if sel := str(p.Selector); sel != "" {
							got[n+sel] = v
						}
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for _, n := range b.names {
					k := b.region + "\x00" + n
					if v, ok := got[n]; ok {
						values[k] = v
					} else {
						invalid = append(invalid, k)
					}
				}
				return nil
			})
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if len(invalid) > 0 {
		// Report in task order.
		var list []string
		seen := map[string]bool{}
		for _, ref := range refs {
			k := ref.key()
			if slices.Contains(invalid, k) && !seen[k] {
				seen[k] = true
				list = append(list, fmt.Sprintf("%s (for %s)", ref.id, strings.Join(users[k], ", ")))
			}
		}
		regionsOf := map[string]bool{}
		for _, k := range invalid {
			region, _, _ := strings.Cut(k, "\x00")
			regionsOf[region] = true
		}
		where := r.c.Region
		if len(regionsOf) == 1 {
			for region := range regionsOf {
				where = region
			}
		}
		return nil, &Error{
			Msg:  fmt.Sprintf("SSM parameters of container %q not found in region %s: %s", r.container, where, strings.Join(list, "; ")),
			Hint: "check the secrets' valueFrom in the task definition, --region and --profile; `aws ssm get-parameters --names NAME` shows whether a parameter exists",
		}
	}
	return values, nil
}

func (r *secretResolver) ssmRegion(region string) func(*ssm.Options) {
	return func(o *ssm.Options) {
		if region != "" && region != r.c.Region {
			o.Region = region
		}
	}
}

// secrets reads the Secrets Manager secrets of refs, one call per distinct
// secret and version, and returns their strings by secretRef.key.
func (r *secretResolver) secrets(ctx context.Context, refs []secretRef) (map[string]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	var distinct []secretRef
	seen := map[string]bool{}
	for _, ref := range refs {
		if !seen[ref.key()] {
			seen[ref.key()] = true
			distinct = append(distinct, ref)
		}
	}
	var (
		mu     sync.Mutex
		values = map[string]string{}
		errs   = make([]error, len(distinct))
		wg     sync.WaitGroup
	)
	for i, ref := range distinct {
		wg.Go(func() {
			errs[i] = r.call(ctx, func() error {
				in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.id)}
				if ref.hasStage {
					in.VersionStage = aws.String(ref.stage)
				}
				if ref.hasVerID {
					in.VersionId = aws.String(ref.versionID)
				}
				out, err := r.c.Secrets.GetSecretValue(ctx, in, func(o *secretsmanager.Options) {
					if ref.region != "" && ref.region != r.c.Region {
						o.Region = ref.region
					}
				})
				if err != nil {
					return r.secretError(ref, err)
				}
				if out.SecretString == nil {
					return &Error{
						Msg:  fmt.Sprintf("secret %s of container %q has a binary value; only string secrets can become environment variables", ref.describe(), r.container),
						Hint: "store the value as a secret string",
					}
				}
				mu.Lock()
				values[ref.key()] = *out.SecretString
				mu.Unlock()
				return nil
			})
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	return values, nil
}

func (r *secretResolver) secretError(ref secretRef, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		version := ""
		if ref.hasStage {
			version += " version stage " + ref.stage
		}
		if ref.hasVerID {
			version += " version id " + ref.versionID
		}
		switch apiErr.ErrorCode() {
		case "ResourceNotFoundException":
			hint := "check the secret's ARN in the task definition, --region and --profile"
			if version != "" {
				hint = "check the secret's ARN and its version stage / id in the task definition (`aws secretsmanager list-secret-version-ids --secret-id ARN`)"
			}
			return &Error{
				Msg:  fmt.Sprintf("secret %s of container %q: %s%s not found in region %s", ref.describe(), r.container, ref.id, version, ref.region),
				Hint: hint,
				Err:  err,
			}
		case "DecryptionFailure":
			return &Error{
				Msg:  fmt.Sprintf("secret %s of container %q: Secrets Manager could not decrypt it in region %s: %s", ref.describe(), r.container, ref.region, apiMessage(err)),
				Hint: "the role or user needs kms:Decrypt on the secret's KMS key",
				Err:  err,
			}
		}
	}
	return r.translate(ref.region, "secretsmanager:GetSecretValue",
		fmt.Sprintf("read secret %s of container %q", ref.describe(), r.container),
		"the role or user needs secretsmanager:GetSecretValue on the secret, and kms:Decrypt on its key if it is a customer managed KMS key", err)
}

// s3Object is an environment file's location.
type s3Object struct {
	arn, bucket, key string
}

// parseS3ARN reads arn:aws:s3:::bucket/key.
func parseS3ARN(arn string) (s3Object, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "s3" {
		if bucket, key, ok := strings.Cut(parts[5], "/"); ok && bucket != "" && key != "" {
			return s3Object{arn: arn, bucket: bucket, key: key}, nil
		}
	}
	return s3Object{}, &Error{
		Msg:  fmt.Sprintf("environment file %q is not an S3 object ARN", arn),
		Hint: "environment files are S3 objects: arn:aws:s3:::BUCKET/KEY.env",
	}
}

// envFile reads and parses one environment file.
func (r *secretResolver) envFile(ctx context.Context, f s3Object) ([]dockercmd.EnvVar, error) {
	var vars []dockercmd.EnvVar
	err := r.call(ctx, func() error {
		out, err := r.c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(f.key)})
		if err != nil {
			return r.objectError(f, err)
		}
		defer out.Body.Close()
		data, err := io.ReadAll(io.LimitReader(out.Body, maxEnvFile+1))
		if err != nil {
			return &Error{Msg: fmt.Sprintf("read environment file %s of container %q in region %s: %v", f.arn, r.container, r.c.Region, err), Err: err}
		}
		if len(data) > maxEnvFile {
			return &Error{
				Msg:  fmt.Sprintf("environment file %s of container %q is larger than 1 MiB", f.arn, r.container),
				Hint: "split it, or move the values to SSM parameters or Secrets Manager",
			}
		}
		vars = parseEnvFile(data)
		return nil
	})
	return vars, err
}

func (r *secretResolver) objectError(f s3Object, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return &Error{
				Msg:  fmt.Sprintf("environment file %s of container %q not found (bucket %s has no key %s)", f.arn, r.container, f.bucket, f.key),
				Hint: "check environmentFiles in the task definition; `aws s3 ls s3://" + f.bucket + "/` lists the objects",
				Err:  err,
			}
		case "NoSuchBucket":
			return &Error{
				Msg:  fmt.Sprintf("environment file %s of container %q: bucket %s does not exist", f.arn, r.container, f.bucket),
				Hint: "check environmentFiles in the task definition",
				Err:  err,
			}
		}
	}
	return r.translate(r.c.Region, "s3:GetObject",
		fmt.Sprintf("read environment file %s of container %q", f.arn, r.container),
		"the role or user needs s3:GetObject on the object (and s3:GetBucketLocation on the bucket), and kms:Decrypt if it is encrypted with a KMS key", err)
}

// translate words a failed call: permission problems get deniedHint,
// credential problems and throttling the messages Resolver uses. SDK errors
// that are not API errors (e.g. an unreadable response) are not quoted, as
// their text can carry part of a response body.
func (r *secretResolver) translate(region, op, what, deniedHint string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (deniedCodes[apiErr.ErrorCode()] || apiErr.ErrorCode() == "Forbidden") {
		return &Error{
			Msg:  fmt.Sprintf("AWS credentials not allowed to %s in region %s: %s", what, region, apiMessage(err)),
			Hint: deniedHint,
			Err:  err,
		}
	}
	res := &Resolver{Region: region}
	if e := res.translateAuth(op, err); e != nil {
		return e
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return &Error{Msg: fmt.Sprintf("%s in region %s: the response could not be read", what, region), Err: err}
	}
	return res.translate(op, what, err)
}

// parseEnvFile reads an environment file as ECS does: one NAME=VALUE per
// line, split at the first "="; lines starting with # and lines without a
// name or a value are skipped; no quotes or escapes are interpreted. A name
// set twice keeps the later value.
func parseEnvFile(data []byte) []dockercmd.EnvVar {
	var out []dockercmd.EnvVar
	at := map[string]int{}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" || value == "" {
			continue
		}
		if i, ok := at[name]; ok {
			out[i].Value = value
			continue
		}
		at[name] = len(out)
		out = append(out, dockercmd.EnvVar{Name: name, Value: value})
	}
	return out
}
