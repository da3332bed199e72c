package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/cliargs"
	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

func TestComposeRemote(t *testing.T) {
	spec := dockercmd.Spec{
		Name:  "web",
		Image: "registry.example.com:5000/web:1.6.0",
		Env: []dockercmd.EnvVar{
			{Name: "PASSWORD", Value: "s3cr3t value"},
			{Name: "CERT", Value: "-----BEGIN-----\nabc\n-----END-----"},
		},
	}
	for _, tt := range []struct {
		name        string
		args        []string
		wantPrefix  []string // argv up to "run"
		wantCleanup []string
		wantEnvArgs []string
	}{
		{
			name:        "plain",
			args:        []string{"--task", "web", "--", "env"},
			wantPrefix:  []string{"docker", "run"},
			wantCleanup: []string{"docker", "rm", "-f"},
			wantEnvArgs: []string{"--env-file", "@ENVDIR@/env", "-e", "CERT"},
		},
		{
			name:        "sudo keeps the multi-line value's name and never prompts on cleanup",
			args:        []string{"--task", "web", "--sudo-u", "root", "--", "env"},
			wantPrefix:  []string{"sudo", "-u", "root", "--preserve-env=CERT", "--", "docker", "run"},
			wantCleanup: []string{"sudo", "-u", "root", "-n", "--", "docker", "rm", "-f"},
			wantEnvArgs: []string{"--env-file", "@ENVDIR@/env", "-e", "CERT"},
		},
		{
			name:        "+e passes nothing",
			args:        []string{"--task", "web", "+e", "--", "env"},
			wantPrefix:  []string{"docker", "run"},
			wantCleanup: []string{"docker", "rm", "-f"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cliargs.Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			r, err := composeRemote(p, spec, false)
			if err != nil {
				t.Fatal(err)
			}
			run := slices.Index(r.argv, "run")
			if diff := cmp.Diff(r.argv[:run+1], tt.wantPrefix); diff != "" {
				t.Errorf("argv prefix (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(r.cleanup, append(tt.wantCleanup, r.name)); diff != "" {
				t.Errorf("cleanup (-got +want):\n%s", diff)
			}
			var envArgs []string
			for i, a := range r.argv {
				if (a == "--env-file" || a == "-e") && i+1 < len(r.argv) {
					envArgs = append(envArgs, a, r.argv[i+1])
				}
			}
			if diff := cmp.Diff(envArgs, tt.wantEnvArgs); diff != "" {
				t.Errorf("environment options (-got +want):\n%s", diff)
			}
			for _, v := range spec.Env {
				if strings.Contains(strings.Join(r.argv, " "), v.Value) {
					t.Errorf("value of %s is on the command line", v.Name)
				}
			}
			if !slices.Contains(r.argv, "--init") || !slices.Contains(r.argv, r.name) {
				t.Errorf("argv %q lacks --init or the container name", r.argv)
			}
		})
	}
}
