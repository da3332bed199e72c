package main

import "github.com/urfave/cli/v2"

// The flags below document the options for --help. Parsing is cliargs'
// job (it knows the `--`, `+e`, `--ssh-*`, `--sudo-*` and docker rules), so
// urfave/cli only renders them.
var helpFlags = []cli.Flag{
	&cli.StringFlag{Name: "task", Usage: "task definition: family, family:revision or ARN", Category: "Task"},
	&cli.StringFlag{Name: "service", Usage: "take the task definition (and Fargate network) from this service", Category: "Task"},
	&cli.StringFlag{Name: "cluster", Usage: "cluster (default: the task name without a leading ecscompose-)", Category: "Task"},
	&cli.StringFlag{Name: "container", Usage: "container of the task definition, by name or 0-based index", Value: "0", Category: "Task"},
	&cli.StringFlag{Name: "image", Usage: "run this image instead of the task's", Category: "Task"},
	&cli.StringFlag{Name: "tag", Usage: "replace only the tag of the image", Category: "Task"},
	&cli.StringFlag{Name: "instance", Usage: "-1 random, N index, i-… id, or a regexp on the Name tag and id", Value: "-1", Category: "Instance"},
	&cli.StringFlag{Name: "address", Usage: "private-ip, public-ip, private-dns, public-dns, name or id", Category: "Instance"},
	&cli.StringFlag{Name: "domain", Usage: "connect to <Name tag>.DOMAIN", Category: "Instance"},
	&cli.StringFlag{Name: "user", Usage: "user in the container (docker --user)", Category: "Container"},
	&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory in the container", Category: "Container"},
	&cli.BoolFlag{Name: "sudo", Usage: "run docker on the host through sudo", Category: "Host"},
	&cli.StringFlag{Name: "sudo-<flag>", Usage: "pass -<flag> [value] to sudo (implies --sudo); -s -p -b -A -e are refused", Category: "Host"},
	&cli.StringFlag{Name: "ssh-user", Usage: "SSH login user", Category: "SSH"},
	&cli.StringFlag{Name: "ssh-<flag>", Usage: "OpenSSH option, e.g. --ssh-i KEY, --ssh-p 2222, --ssh-o ServerAliveInterval=30, --ssh-J bastion, --ssh-q", Category: "SSH"},
	&cli.StringFlag{Name: "launch-type", Usage: "FARGATE: run an sshd task and log into it", Category: "Fargate"},
	&cli.StringFlag{Name: "subnets", Usage: "subnet ids, comma separated", Category: "Fargate"},
	&cli.StringFlag{Name: "security-groups", Usage: "security group ids, comma separated", Category: "Fargate"},
	&cli.BoolFlag{Name: "assign-public-ip", Usage: "give the task a public IP", Category: "Fargate"},
	&cli.StringFlag{Name: "platform-version", Usage: "Fargate platform version", Category: "Fargate"},
	&cli.DurationFlag{Name: "wait-timeout", Usage: "how long to wait for the task and its sshd", Value: 0, DefaultText: "5m", Category: "Fargate"},
	&cli.StringFlag{Name: "profile", Usage: "AWS profile", Category: "AWS"},
	&cli.StringFlag{Name: "region", Usage: "AWS region", Category: "AWS"},
	&cli.BoolFlag{Name: "non-interactive", Usage: "no PTY even if stdin is a terminal", Category: "Output"},
	&cli.BoolFlag{Name: "dry-run", Usage: "resolve everything, print the target and the remote command, connect to nothing", Category: "Output"},
	&cli.BoolFlag{Name: "verbose", Usage: "print what is resolved and the equivalent OpenSSH command to stderr", Category: "Output"},
	&cli.BoolFlag{Name: "debug", Usage: "also log AWS calls, SSH negotiation and timings to stderr", Category: "Output"},
	&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show this help", Category: "Output"},
	&cli.BoolFlag{Name: "version", Usage: "print the version", Category: "Output"},
}

const helpDescription = `Copies the image, environment and volumes of a task definition's container,
picks an ACTIVE container instance of the cluster, opens an SSH connection to it
(no ssh, aws or session-manager-plugin needed) and runs
  docker run --rm -i[t] … IMAGE COMMAND
there. Options it does not know go to docker run. Everything after the first --
is the command, passed byte for byte. +e and +v keep the task's environment and
volumes out of the container.

Examples:
  ssh-ecs-run-task --task ecscompose-user-registration-service--alpha -- bash
  ssh-ecs-run-task --task web:7 --cluster prod --container app --instance i-0abc123 -- env
  ssh-ecs-run-task --task web --cluster prod --user nobody --entrypoint sh -- -c 'id -a'
  ssh-ecs-run-task --task web --cluster prod --ssh-user ec2-user --ssh-o ServerAliveInterval=30 \
      --sudo --sudo-u root --add-host regsvc.com:127.0.0.1 -- django-admin migrate
  echo 'select 1' | ssh-ecs-run-task --task web --cluster prod -- psql
  ssh-ecs-run-task --dry-run --task web --cluster prod -- rake db:migrate
  ssh-ecs-run-task --launch-type FARGATE --cluster prod --service api -- rails console

Exit status:
  0-254  the remote command's status (docker's own 125/126/127 included)
  128+N  the remote command was killed by signal N
  255    ssh-ecs-run-task itself failed: usage, AWS, SSH, lost connection`
