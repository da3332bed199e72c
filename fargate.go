package main

import (
	"context"
	"os"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
)

func executeFargate(ctx context.Context, p *cliargs.Parsed, s *Streams, sigs <-chan os.Signal) (int, error) {
	return 0, &usageError{msg: "--launch-type FARGATE is not available in this build yet", hint: "use EC2 mode (leave out --launch-type)"}
}
