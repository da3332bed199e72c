package ecs

import "time"

// guard bounds how long a test waits for something that should already have
// happened, turning a deadlock into a failure. It is not a timing assertion.
func guard() <-chan time.Time { return time.After(10 * time.Second) }
