// Package e2e holds the end-to-end tests: the built ssh-ecs-run-task binary
// against the ECS/EC2 emulator (e2e/emulator), real OpenSSH sshd servers on
// 127.0.0.N (e2e/bed) and the real Docker engine. Scenarios are testscript
// files in testdata/script; PTY, signal and campaign scenarios are Go tests.
//
// Nothing here is imported by the product; all traffic stays on loopback.
package e2e
