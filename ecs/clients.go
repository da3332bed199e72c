package ecs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
)

// ECSAPI is the part of the ECS API that this package calls.
type ECSAPI interface {
	DescribeTaskDefinition(ctx context.Context, in *awsecs.DescribeTaskDefinitionInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error)
	ListContainerInstances(ctx context.Context, in *awsecs.ListContainerInstancesInput, optFns ...func(*awsecs.Options)) (*awsecs.ListContainerInstancesOutput, error)
	DescribeContainerInstances(ctx context.Context, in *awsecs.DescribeContainerInstancesInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeContainerInstancesOutput, error)
	ListClusters(ctx context.Context, in *awsecs.ListClustersInput, optFns ...func(*awsecs.Options)) (*awsecs.ListClustersOutput, error)
	DescribeServices(ctx context.Context, in *awsecs.DescribeServicesInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error)
	ListServices(ctx context.Context, in *awsecs.ListServicesInput, optFns ...func(*awsecs.Options)) (*awsecs.ListServicesOutput, error)
	// Fargate mode.
	RunTask(ctx context.Context, in *awsecs.RunTaskInput, optFns ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *awsecs.DescribeTasksInput, optFns ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *awsecs.StopTaskInput, optFns ...func(*awsecs.Options)) (*awsecs.StopTaskOutput, error)
}

// EC2API is the part of the EC2 API that this package calls.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	// Fargate mode: the task's network interface.
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
}

var (
	_ ECSAPI = (*awsecs.Client)(nil)
	_ EC2API = (*ec2.Client)(nil)
)

// NewClients loads the AWS configuration through the SDK's default chain
// (environment, shared config and credentials files, SSO, IMDS, …), with
// profile and region overriding it when they are not empty, and returns the
// ECS and EC2 clients and the region in use. Endpoints are left to the SDK,
// so AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECS and AWS_ENDPOINT_URL_EC2 apply.
// Extra load options (e.g. config.WithClientLogMode for --debug) are applied
// last. It does no network I/O of its own: credentials are fetched on the
// first call.
func NewClients(ctx context.Context, profile, region string, opts ...func(*config.LoadOptions) error) (ECSAPI, EC2API, string, error) {
	cfg, err := loadConfig(ctx, profile, region, opts)
	if err != nil {
		return nil, nil, "", err
	}
	return awsecs.NewFromConfig(cfg), ec2.NewFromConfig(cfg), cfg.Region, nil
}

// loadConfig is the SDK's default chain with profile and region on top; a
// configuration without a region is an error with a hint.
func loadConfig(ctx context.Context, profile, region string, opts []func(*config.LoadOptions) error) (aws.Config, error) {
	load := []func(*config.LoadOptions) error{config.WithRetryer(newRetryer)}
	if profile != "" {
		load = append(load, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	load = append(load, opts...)
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, translateConfigError(profile, err)
	}
	if cfg.Region == "" {
		return aws.Config{}, &Error{
			Msg:  "no AWS region configured",
			Hint: "pass --region REGION, set AWS_REGION, or set region in the profile of ~/.aws/config",
			Err:  &aws.MissingRegionError{},
		}
	}
	return cfg, nil
}

// newRetryer is the SDK's standard retryer (throttling, 5xx and connection
// errors, with backoff) that also retries an answer cut off or garbled in
// transit. Retrying is safe: the calls only read, and RunTask carries a
// client token, so a repeated call does not start a second task.
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Retryables = append(o.Retryables, retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			var de *smithy.DeserializationError
			if errors.As(err, &de) || errors.Is(err, io.ErrUnexpectedEOF) {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		}))
	})
}

func translateConfigError(profile string, err error) error {
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		return &Error{
			Msg:  fmt.Sprintf("AWS profile %q not found in the shared config or credentials files", notExist.Profile),
			Hint: "check --profile and AWS_PROFILE; `aws configure list-profiles` shows the profiles",
			Err:  err,
		}
	}
	what := "load AWS configuration"
	if profile != "" {
		what = fmt.Sprintf("load AWS configuration for profile %q", profile)
	}
	return &Error{Msg: fmt.Sprintf("%s: %v", what, err), Err: err}
}
