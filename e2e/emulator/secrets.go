package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// X-Amz-Target prefixes of the awsJson1_1 services besides ECS.
const (
	ssmTargetPrefix     = "AmazonSSM."
	secretsTargetPrefix = "secretsmanager."
)

// Parameter is an SSM Parameter Store parameter (the current version only).
type Parameter struct {
	Comment any    `json:"_comment,omitempty"`
	Name    string `json:"name"`              // "db-password" or "/prod/web/db-password"
	Type    string `json:"type,omitempty"`    // String (default), StringList or SecureString
	Value   string `json:"value"`             // plain text, also for SecureString
	Version int64  `json:"version,omitempty"` // default 1
}

// Secret is a Secrets Manager secret with its versions.
type Secret struct {
	Comment any    `json:"_comment,omitempty"`
	Name    string `json:"name"`
	// ARN defaults to arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX
	// with a suffix derived from the name.
	ARN      string          `json:"arn,omitempty"`
	Versions []SecretVersion `json:"versions"`
}

// SecretVersion is one version of a secret. A secret with a single version
// without stages has it as AWSCURRENT.
type SecretVersion struct {
	Comment      any      `json:"_comment,omitempty"`
	ID           string   `json:"versionId,omitempty"` // default derived from the secret and index
	Stages       []string `json:"versionStages,omitempty"`
	SecretString string   `json:"secretString"`
}

// initSecrets validates parameters, secrets and objects and fills defaults.
func (st *State) initSecrets() error {
	names := map[string]bool{}
	for i := range st.Parameters {
		p := &st.Parameters[i]
		if p.Name == "" {
			return fmt.Errorf("parameter %d has no name", i)
		}
		if names[p.Name] {
			return fmt.Errorf("parameter %s listed twice", p.Name)
		}
		names[p.Name] = true
		switch p.Type {
		case "":
			p.Type = "String"
		case "String", "StringList", "SecureString":
		default:
			return fmt.Errorf("parameter %s: unknown type %q", p.Name, p.Type)
		}
		if p.Version == 0 {
			p.Version = 1
		}
	}
	secrets := map[string]bool{}
	for i := range st.Secrets {
		s := &st.Secrets[i]
		if s.Name == "" {
			return fmt.Errorf("secret %d has no name", i)
		}
		if secrets[s.Name] {
			return fmt.Errorf("secret %s listed twice", s.Name)
		}
		secrets[s.Name] = true
		if s.ARN == "" {
			sum := sha256.Sum256([]byte(s.Name))
			s.ARN = "arn:aws:secretsmanager:" + st.Region + ":" + st.AccountID + ":secret:" + s.Name + "-" + suffix6(sum[:])
		}
		if len(s.Versions) == 0 {
			return fmt.Errorf("secret %s has no versions", s.Name)
		}
		if len(s.Versions) == 1 && len(s.Versions[0].Stages) == 0 {
			s.Versions[0].Stages = []string{"AWSCURRENT"}
		}
		stages := map[string]bool{}
		for j := range s.Versions {
			v := &s.Versions[j]
			if v.ID == "" {
				sum := sha256.Sum256([]byte(s.Name + "/" + strconv.Itoa(j)))
				h := hex.EncodeToString(sum[:16])
				v.ID = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
			}
			for _, stage := range v.Stages {
				if stages[stage] {
					return fmt.Errorf("secret %s: stage %s on two versions", s.Name, stage)
				}
				stages[stage] = true
			}
		}
		if !stages["AWSCURRENT"] {
			return fmt.Errorf("secret %s has no AWSCURRENT version", s.Name)
		}
	}
	for k := range st.Objects {
		if bucket, key, ok := strings.Cut(k, "/"); !ok || bucket == "" || key == "" {
			return fmt.Errorf("object %q: want \"bucket/key\"", k)
		}
	}
	return nil
}

// suffix6 is the six random-looking characters AWS appends to a secret's
// name in its ARN.
func suffix6(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	out := make([]byte, 6)
	for i := range out {
		out[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(out)
}

// serveJSON answers one awsJson1_1 request of SSM or Secrets Manager, like
// serveECS does for ECS.
func (s *Server) serveJSON(ctx context.Context, w http.ResponseWriter, service, op string, body []byte) {
	idx, fault := s.begin(ctx, service, op, body, nil)
	var out any
	var err error
	switch fault {
	case "throttle":
		err = errf("ThrottlingException", "Rate exceeded")
	case "server":
		err = &apiError{status: http.StatusInternalServerError, code: "InternalServerError", message: "An internal error occurred."}
	default:
		switch service {
		case "ssm":
			out, err = s.ssmOp(op, body)
		default:
			out, err = s.secretsOp(op, body)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID())
	if err != nil {
		ae, ok := err.(*apiError)
		if !ok {
			ae = &apiError{status: http.StatusInternalServerError, code: "InternalServerError", message: err.Error()}
		}
		s.finish(idx, ae.status, ae.code)
		w.WriteHeader(ae.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.code, "message": ae.message})
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		s.finish(idx, http.StatusInternalServerError, "InternalServerError")
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "InternalServerError", "message": err.Error()})
		return
	}
	s.finish(idx, http.StatusOK, "")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) ssmOp(op string, body []byte) (any, error) {
	if op != "GetParameters" {
		return nil, errf("UnknownOperationException", "Unknown operation %s", op)
	}
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, errf("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	type param struct {
		Name             string
		Type             string
		Value            string
		Version          int64
		ARN              string
		DataType         string
		LastModifiedDate float64
		Selector         string `json:",omitempty"`
	}
	out := struct {
		Parameters        []param
		InvalidParameters []string
	}{Parameters: []param{}, InvalidParameters: []string{}}
	for _, n := range slices.Compact(slices.Clone(in.Names)) {
		p, selector := s.parameter(n)
		if p == nil {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		v := p.Value
		if p.Type == "SecureString" && !in.WithDecryption {
			// What KMS ciphertext looks like, not the value.
			sum := sha256.Sum256([]byte(p.Name + "\x00" + p.Value))
			v = "AQICAH" + base64.StdEncoding.EncodeToString(sum[:])
		}
		out.Parameters = append(out.Parameters, param{
			Name: p.Name, Type: p.Type, Value: v, Version: p.Version, ARN: s.parameterARN(p.Name),
			DataType: "text", LastModifiedDate: fixtureTime, Selector: selector,
		})
	}
	return out, nil
}

func (s *Server) parameterARN(name string) string {
	return "arn:aws:ssm:" + s.st.Region + ":" + s.st.AccountID + ":parameter/" + strings.TrimPrefix(name, "/")
}

// parameter finds a parameter by name or ARN, with an optional :VERSION
// selector (only the current version exists).
func (s *Server) parameter(ref string) (*Parameter, string) {
	var candidates []string
	if strings.HasPrefix(ref, "arn:") {
		prefix := "arn:aws:ssm:" + s.st.Region + ":" + s.st.AccountID + ":parameter/"
		rest, ok := strings.CutPrefix(ref, prefix)
		if !ok {
			return nil, ""
		}
		candidates = []string{"/" + rest, rest}
	} else {
		candidates = []string{ref}
	}
	for _, c := range candidates {
		name, selector := c, ""
		if i := strings.LastIndexByte(c, ':'); i >= 0 {
			name, selector = c[:i], c[i:]
		}
		for i := range s.st.Parameters {
			p := &s.st.Parameters[i]
			switch {
			case p.Name == c:
				return p, ""
			case selector != "" && p.Name == name && selector == ":"+strconv.FormatInt(p.Version, 10):
				return p, selector
			}
		}
	}
	return nil, ""
}

func (s *Server) secretsOp(op string, body []byte) (any, error) {
	if op != "GetSecretValue" {
		return nil, errf("UnknownOperationException", "Unknown operation %s", op)
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	notFound := errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	sec := s.secret(in.SecretID)
	if sec == nil {
		return nil, notFound
	}
	stage := in.VersionStage
	if stage == "" && in.VersionID == "" {
		stage = "AWSCURRENT"
	}
	var ver *SecretVersion
	for i := range sec.Versions {
		v := &sec.Versions[i]
		if (in.VersionID == "" || v.ID == in.VersionID) && (stage == "" || slices.Contains(v.Stages, stage)) {
			ver = v
			break
		}
	}
	if ver == nil {
		if stage != "" {
			return nil, errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
		return nil, errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: %s", in.VersionID)
	}
	stages := ver.Stages
	if stages == nil {
		stages = []string{}
	}
	return map[string]any{
		"ARN":           sec.ARN,
		"Name":          sec.Name,
		"VersionId":     ver.ID,
		"SecretString":  ver.SecretString,
		"VersionStages": stages,
		"CreatedDate":   fixtureTime,
	}, nil
}

// secret finds a secret by name, full ARN or partial ARN (without the
// six-character suffix).
func (s *Server) secret(id string) *Secret {
	for i := range s.st.Secrets {
		sec := &s.st.Secrets[i]
		if id == sec.Name || id == sec.ARN || (len(sec.ARN) > 7 && id == sec.ARN[:len(sec.ARN)-7]) {
			return sec
		}
	}
	return nil
}

// isS3 reports whether r is an S3 GetObject in path style (GET /bucket/key);
// EC2 query requests are POSTs with an Action.
func isS3(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Query().Get("Action") == "" &&
		strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1
}

// serveS3 answers GET /bucket/key from State.Objects, with S3's XML errors.
func (s *Server) serveS3(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	idx, fault := s.begin(ctx, "s3", "GetObject", nil, url.Values{"Bucket": {bucket}, "Key": {key}})
	reqID := requestID()
	w.Header().Set("X-Amz-Request-Id", reqID)
	fail := func(status int, code, msg string) {
		s.finish(idx, status, code)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return
		}
		var b strings.Builder
		b.WriteString(xml.Header)
		b.WriteString("<Error><Code>")
		_ = xml.EscapeText(&b, []byte(code))
		b.WriteString("</Code><Message>")
		_ = xml.EscapeText(&b, []byte(msg))
		b.WriteString("</Message><BucketName>")
		_ = xml.EscapeText(&b, []byte(bucket))
		b.WriteString("</BucketName><Key>")
		_ = xml.EscapeText(&b, []byte(key))
		b.WriteString("</Key><RequestId>")
		_ = xml.EscapeText(&b, []byte(reqID))
		b.WriteString("</RequestId></Error>")
		_, _ = io.WriteString(w, b.String())
	}
	switch fault {
	case "throttle":
		fail(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		return
	case "server":
		fail(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	data, ok := s.st.Objects[bucket+"/"+key]
	if !ok {
		for k := range s.st.Objects {
			if strings.HasPrefix(k, bucket+"/") {
				fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
				return
			}
		}
		fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	sum := sha256.Sum256([]byte(data))
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc32.ChecksumIEEE([]byte(data)))
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	h.Set("Last-Modified", time.Unix(int64(fixtureTime), 0).UTC().Format(http.TimeFormat))
	h.Set("X-Amz-Checksum-Crc32", base64.StdEncoding.EncodeToString(crc[:]))
	s.finish(idx, http.StatusOK, "")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.WriteString(w, data)
}
