package sshsession

import "time"

func timeAfter10ms() <-chan time.Time { return time.After(10 * time.Millisecond) }
func timeAfter1s() <-chan time.Time   { return time.After(time.Second) }
