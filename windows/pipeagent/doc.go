// Package pipeagent serves an SSH agent on a Windows named pipe, the way the
// Windows OpenSSH agent service does on \\.\pipe\openssh-ssh-agent. It is test
// tooling for the Windows build (see windows/README.md), not part of the
// product.
//
// Wine 8.0 never accepts a connection on a go-winio ListenPipe server, so Serve
// uses a plain synchronous CreateNamedPipe/ConnectNamedPipe loop
// (golang.org/x/sys/windows), which wine and Windows both run. Clients dial
// it with winio.DialPipe, as the product does.
package pipeagent
