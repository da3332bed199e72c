package ecs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// GuessCluster derives a cluster name from a task definition given as a
// family, family:revision or ARN, the way the original tool did: drop an ARN
// prefix up to "task-definition/", a ":revision" suffix, and a leading
// "ecscompose-".
func GuessCluster(task string) string {
	s := task
	if i := strings.Index(s, ":task-definition/"); i >= 0 && strings.HasPrefix(s, "arn:") {
		s = s[i+len(":task-definition/"):]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && isDigits(s[i+1:]) {
		s = s[:i]
	}
	return strings.TrimPrefix(s, "ecscompose-")
}

type selKind int

const (
	selRandom  selKind = iota // "" or "-1"
	selIndex                  // a non-negative integer
	selEC2ID                  // i-…
	selCIID                   // container instance id or ARN
	selPattern                // anything else: a regular expression
)

// selector is a parsed --instance value.
type selector struct {
	kind  selKind
	raw   string
	index int
	re    *regexp.Regexp
}

var (
	ec2IDRe = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	// Container instance ids are 32 hex digits today and UUIDs in old clusters.
	ciIDRe  = regexp.MustCompile(`^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	ciARNRe = regexp.MustCompile(`^arn:[^:]+:ecs:[^:]*:[^:]*:container-instance/`)
)

// parseSelector interprets --instance per SPEC §2.1. It does no I/O, so a bad
// pattern is reported before any AWS call.
func parseSelector(s string) (selector, error) {
	switch {
	case s == "" || s == "-1":
		return selector{kind: selRandom, raw: s}, nil
	case ec2IDRe.MatchString(s):
		return selector{kind: selEC2ID, raw: s}, nil
	case ciIDRe.MatchString(s) || ciARNRe.MatchString(s):
		// Before the index: a container instance id can be all digits.
		return selector{kind: selCIID, raw: s}, nil
	case isDigits(s):
		n, err := strconv.Atoi(s)
		if err != nil {
			return selector{}, &Error{Msg: fmt.Sprintf("--instance %s: index too large", s)}
		}
		return selector{kind: selIndex, raw: s, index: n}, nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return selector{}, &Error{
			Msg:  fmt.Sprintf("--instance %q: not an index, an instance id or a valid regular expression: %v", s, err),
			Hint: "--instance takes an index (0, 1, …), an EC2 instance id (i-…), a container instance id or ARN, or a Go regular expression matched against the Name tag and the instance id",
		}
	}
	return selector{kind: selPattern, raw: s, re: re}, nil
}

// matchesCI reports whether the container instance ARN is the one the
// selector names (by ARN or by its id, the part after the last "/").
func (s selector) matchesCI(arn string) bool {
	if s.kind != selCIID {
		return false
	}
	if strings.HasPrefix(s.raw, "arn:") {
		return arn == s.raw
	}
	return arn[strings.LastIndexByte(arn, '/')+1:] == s.raw
}

// Address kinds accepted by Request.Address.
const (
	AddressPrivateIP  = "private-ip"
	AddressPublicIP   = "public-ip"
	AddressPrivateDNS = "private-dns"
	AddressPublicDNS  = "public-dns"
	AddressName       = "name"
	AddressID         = "id"
)

var addressKinds = []string{AddressPrivateIP, AddressPublicIP, AddressPrivateDNS, AddressPublicDNS, AddressName, AddressID}

var addressWhat = map[string]string{
	AddressPrivateIP:  "private IP address",
	AddressPublicIP:   "public IP address",
	AddressPrivateDNS: "private DNS name",
	AddressPublicDNS:  "public DNS name",
	AddressName:       "Name tag",
	AddressID:         "instance id",
}

// addressKind returns the effective --address: the one given, else "name"
// with a domain and "private-ip" without.
func addressKind(address, domain string) (string, error) {
	if address == "" {
		if domain != "" {
			return AddressName, nil
		}
		return AddressPrivateIP, nil
	}
	for _, k := range addressKinds {
		if address == k {
			return k, nil
		}
	}
	return "", &Error{
		Msg:  fmt.Sprintf("--address %q: unknown kind", address),
		Hint: "--address takes one of " + strings.Join(addressKinds, ", "),
	}
}

// HostFor returns what to dial for in, per the address kind (see Request);
// domain is appended to the Name tag for the kind "name".
func HostFor(in Instance, kind, domain string) (string, error) {
	kind, err := addressKind(kind, domain)
	if err != nil {
		return "", err
	}
	host := in.address(kind)
	if host == "" {
		var others []string
		for _, k := range addressKinds {
			if k != kind && in.address(k) != "" {
				others = append(others, k)
			}
		}
		hint := "the instance has no other address either"
		if len(others) > 0 {
			hint = "try --address " + strings.Join(others, " or --address ")
		}
		return "", &Error{Msg: fmt.Sprintf("instance %s has no %s (--address %s)", in.ID, addressWhat[kind], kind), Hint: hint}
	}
	if kind == AddressName && domain != "" {
		host += "." + strings.TrimPrefix(domain, ".")
	}
	return host, nil
}

func (in Instance) address(kind string) string {
	switch kind {
	case AddressPrivateIP:
		return in.PrivateIP
	case AddressPublicIP:
		return in.PublicIP
	case AddressPrivateDNS:
		return in.PrivateDNS
	case AddressPublicDNS:
		return in.PublicDNS
	case AddressName:
		return in.Name
	case AddressID:
		return in.ID
	}
	return ""
}
