// Package ecs turns a task definition, a cluster and an instance choice into
// a Target: the host to dial over SSH and the container spec to run there.
//
// It is the only package that talks to AWS (ECS and EC2, through
// aws-sdk-go-v2) and it translates AWS failures into *Error values that name
// the region, cluster and task involved and say what to try. It never opens
// an SSH connection and never builds a command line: the spec it returns is
// plain data for package dockercmd.
package ecs
