package main

// helpText is --help. It is plain text on purpose: a help renderer built on
// text/template (as CLI frameworks use) stops the linker from dropping
// unused methods and made the binary 42 MB larger (docs/PERFORMANCE.md).
const helpText = `ssh-ecs-run-task — run a command in a fresh container on an ECS cluster, over SSH,
like you were there.

Usage:
  ssh-ecs-run-task [options] [docker run options] -- COMMAND [ARG...]

Copies the image, environment and volumes of a task definition's container, picks
an ACTIVE container instance of the cluster, opens an SSH connection to it (no ssh,
aws or session-manager-plugin needed) and runs
  docker run --rm -i[t] … IMAGE COMMAND
there. Options it does not know go to docker run. Everything after the first -- is
the command, passed byte for byte.

Task and container:
  --task NAME            task definition: family, family:revision or ARN
  --service NAME         take the task definition (and Fargate network) from a service
  --cluster NAME         cluster (default: the task name without a leading ecscompose-)
  --container NAME|N     container of the task definition, by name or 0-based index (default 0)
  --image IMAGE          run this image instead of the task's
  --tag TAG              replace only the tag of the image
  +e, +v                 do not copy the task's environment / volumes
  --with-secrets         also resolve the task's secrets (SSM, Secrets Manager) and S3 env files
  --user USER            user in the container
  -w, --workdir DIR      working directory in the container
  (any other option)     passed to docker run, after the task's options: --entrypoint sh, -e A=1 …

Instance (EC2 mode):
  --instance SPEC        -1 random (default), N index, i-… id, or a regexp on the Name tag and id
  --address KIND         private-ip (default), public-ip, private-dns, public-dns, name, id
  --domain DOMAIN        connect to <Name tag>.DOMAIN
  --sudo                 run docker on the host through sudo
  --sudo-<flag> [value]  pass -<flag> to sudo (implies --sudo); -s -p -b -A -e are refused

SSH (interpreted in-process, like OpenSSH):
  --ssh-user USER        login user
  --ssh-<flag> [value]   e.g. --ssh-i KEY, --ssh-p 2222, --ssh-J bastion, --ssh-F FILE, --ssh-A,
                         --ssh-q, --ssh-v, --ssh-4, --ssh-o ServerAliveInterval=30 (ssh_config keywords)

Fargate mode:
  --launch-type FARGATE  run an sshd task with one-time keys and log into it
  --subnets IDS          subnets, comma separated (or --service)
  --security-groups IDS  security groups, comma separated
  --assign-public-ip     give the task a public IP
  --platform-version V   Fargate platform version
  --wait-timeout D       how long to wait for the task and its sshd (default 5m)

AWS and output:
  --profile NAME, --region REGION
  --timeout D            EC2 mode: give up if the command has not started after D (e.g. 30s)
  --non-interactive      no PTY even if stdin is a terminal
  --dry-run              resolve everything, print the target and the remote command, connect to nothing
  --verbose              print what is resolved and the equivalent OpenSSH command to stderr
  --debug                also log AWS calls, SSH negotiation and per-phase timings
  --version, -h/--help

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
  255    ssh-ecs-run-task itself failed: usage, AWS, SSH, lost connection
`
