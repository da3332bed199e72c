package main

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/ecs"
)

// awsClients are the SDK clients, built only when a run needs AWS.
type awsClients struct {
	ECS    ecs.ECSAPI
	EC2    ecs.EC2API
	Region string
}

// newAWS loads the AWS configuration (profile, region, AWS_ENDPOINT_URL…).
// With --debug every call is logged by operation name and duration only:
// request and response bodies can hold secrets and are never printed.
func newAWS(ctx context.Context, p *cliargs.Parsed, log *logger) (*awsClients, error) {
	var opts []func(*config.LoadOptions) error
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
	return &awsClients{ECS: ecsClient, EC2: ec2Client, Region: region}, nil
}
