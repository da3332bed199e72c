package main

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
)

// awsClients are the SDK clients, built only when a run needs AWS.
type awsClients struct {
	ECS    ecs.ECSAPI
	EC2    ecs.EC2API
	Region string

	profile string
	opts    []func(*config.LoadOptions) error
}

// secrets builds the SSM, Secrets Manager and S3 clients, with the same
// profile, region and --debug logging as the others.
func (c *awsClients) secrets(ctx context.Context) (*ecs.SecretClients, error) {
	return ecs.NewSecretClients(ctx, c.profile, c.Region, c.opts...)
}

// newAWS loads the AWS configuration (profile, region, AWS_ENDPOINT_URL…).
// With --debug every call is logged by operation name and duration only:
// request and response bodies can hold secrets and are never printed.
func newAWS(ctx context.Context, p *cliargs.Parsed, log *logger) (*awsClients, error) {
	// The SDK's own log lines (e.g. "WARN failed to discard remaining HTTP
	// response body" after a connection lost mid-answer) would land on
	// stderr beside the tool's one-line error; they are debug output.
	opts := []func(*config.LoadOptions) error{
		config.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			log.debug("aws sdk: %s "+format, append([]any{c}, v...)...)
		})),
	}
	if p.Debug {
		opts = append(opts, config.WithAPIOptions([]func(*middleware.Stack) error{
			func(st *middleware.Stack) error {
				return st.Initialize.Add(middleware.InitializeMiddlewareFunc("ssh-ecs-run-task-debug",
					func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
						start := time.Now()
						out, md, err := next.HandleInitialize(ctx, in)
						status := "ok"
						if err != nil {
							status = "error: " + err.Error()
						}
						log.debug("aws: %s %s %.1f ms %s", awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx),
							float64(time.Since(start).Microseconds())/1000, status)
						return out, md, err
					}), middleware.Before)
			},
		}))
	}
	ecsClient, ec2Client, region, err := ecs.NewClients(ctx, p.Profile, p.Region, opts...)
	if err != nil {
		return nil, err
	}
	return &awsClients{ECS: ecsClient, EC2: ec2Client, Region: region, profile: p.Profile, opts: opts}, nil
}
