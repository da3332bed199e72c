package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// Error is a failure described in words a user can act on. Msg is the one-line
// message (without the program name) and Hint, when not empty, says what to
// try. Err is the underlying cause, for errors.Is / errors.As.
type Error struct {
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// credentialCodes are API error codes that mean the caller's credentials are
// missing, invalid or expired.
var credentialCodes = map[string]bool{
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"UnrecognizedClientException": true,
	"InvalidClientTokenId":        true,
	"InvalidSignatureException":   true,
	"SignatureDoesNotMatch":       true,
	"AuthFailure":                 true,
	"RequestExpired":              true,
	"MissingAuthenticationToken":  true,
	"IncompleteSignature":         true,
}

// deniedCodes are API error codes that mean the credentials work but lack a
// permission.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
}

// throttleCodes are API error codes that mean the caller sent too many
// requests (the SDK has already retried them).
var throttleCodes = map[string]bool{
	"ThrottlingException":      true,
	"Throttling":               true,
	"RequestLimitExceeded":     true,
	"TooManyRequestsException": true,
}

// translateAuth turns credential and permission failures of any call into an
// *Error, or returns nil when err is not one. op is the IAM action name,
// e.g. "ecs:DescribeTaskDefinition".
func (r *Resolver) translateAuth(op string, err error) *Error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case credentialCodes[code]:
			return &Error{
				Msg:  fmt.Sprintf("AWS credentials rejected by %s in region %s: %s: %s", op, r.Region, code, apiErr.ErrorMessage()),
				Hint: credentialHint,
				Err:  err,
			}
		case deniedCodes[code]:
			return &Error{
				Msg:  fmt.Sprintf("AWS credentials not allowed to call %s in region %s: %s", op, r.Region, apiErr.ErrorMessage()),
				Hint: "check the IAM permissions of the role or user, or choose another --profile",
				Err:  err,
			}
		}
	}
	if isCredentialRetrieval(err) {
		return &Error{
			Msg:  fmt.Sprintf("AWS credentials unavailable: %s", credentialCause(err)),
			Hint: credentialHint,
			Err:  err,
		}
	}
	return nil
}

const credentialHint = "run `aws sso login` (with --profile if you use one), or check --profile, AWS_PROFILE and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables"

// isCredentialRetrieval reports whether err comes from the SDK failing to
// obtain credentials before sending a request.
func isCredentialRetrieval(err error) bool {
	var (
		signing *v4.SigningError
		sso     *ssocreds.InvalidTokenError
	)
	if errors.As(err, &signing) || errors.As(err, &sso) {
		return true
	}
	msg := err.Error()
	// The SDK's identity resolution wraps every provider failure this way.
	return strings.Contains(msg, "get identity: ") || strings.Contains(msg, "failed to refresh cached credentials")
}

// credentialCause strips the SDK's operation prefixes from a credential
// retrieval error, keeping the provider's own explanation.
func credentialCause(err error) string {
	msg := err.Error()
	for _, marker := range []string{"get credentials: ", "get identity: "} {
		if i := strings.Index(msg, marker); i >= 0 {
			msg = msg[i+len(marker):]
			break
		}
	}
	msg = strings.TrimPrefix(msg, "failed to refresh cached credentials, ")
	return msg
}

// translate wraps err from the operation op (an IAM action name) with what
// was being done, unless it is a credential problem, which gets its own
// message. what describes the call and its ids, e.g.
// `describe task definition "web"`.
func (r *Resolver) translate(op, what string, err error) error {
	if err == nil {
		return nil
	}
	if e := r.translateAuth(op, err); e != nil {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var (
		quota  ratelimit.QuotaExceededError
		apiErr smithy.APIError
	)
	if errors.As(err, &quota) || (errors.As(err, &apiErr) && throttleCodes[apiErr.ErrorCode()]) {
		return &Error{
			Msg:  fmt.Sprintf("%s in region %s: AWS throttled the requests and retries were exhausted", what, r.Region),
			Hint: "try again in a moment",
			Err:  err,
		}
	}
	return &Error{Msg: fmt.Sprintf("%s in region %s: %s", what, r.Region, apiMessage(err)), Err: err}
}

// apiMessage is the most useful short text of an SDK error: the API's code
// and message when there is one, the whole error otherwise.
func apiMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if m := apiErr.ErrorMessage(); m != "" {
			return apiErr.ErrorCode() + ": " + m
		}
		return apiErr.ErrorCode()
	}
	return err.Error()
}

func isClusterNotFound(err error) bool {
	var nf *ecstypes.ClusterNotFoundException
	if errors.As(err, &nf) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ClusterNotFoundException"
}

// isTaskDefinitionNotFound reports the ClientException ECS returns for a task
// definition that does not exist ("Unable to describe task definition.").
func isTaskDefinitionNotFound(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.ErrorCode() != "ClientException" && apiErr.ErrorCode() != "InvalidParameterException" {
		return false
	}
	m := strings.ToLower(apiErr.ErrorMessage())
	return strings.Contains(m, "unable to describe task definition") || strings.Contains(m, "task definition does not exist")
}

func isServiceNotFound(err error) bool {
	var nf *ecstypes.ServiceNotFoundException
	return errors.As(err, &nf)
}
