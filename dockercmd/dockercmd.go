// Package dockercmd turns what a task definition says about one container,
// plus the user's overrides, into the argv of a `docker run` command.
//
// It is pure: it takes plain Go values (never AWS SDK types) and returns an
// argv whose every option value is one element, byte for byte. It must not
// quote for a shell (package shellquote does that), run anything, or reorder
// the user's docker options in front of the ones taken from the task: the
// user's come last so that they override.
package dockercmd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Spec is what the task definition says about one container.
type Spec struct {
	Name, Image, User, Workdir string
	Env                        []EnvVar // in task order
	Volumes                    []Volume
	EntryPoint                 []string
	Init                       bool // the task asks for an init process
	NoInit                     bool // the task explicitly disabled it
	Ulimits                    []Ulimit
	ExtraHosts                 []string // "host:ip"
	DNSServers                 []string
	Labels                     map[string]string
}

// EnvVar is one environment variable of the container.
type EnvVar struct{ Name, Value string }

// VolumeKind says how a volume is given to docker run.
type VolumeKind int

const (
	// Bind mounts a host path: -v SOURCE:DEST[:ro].
	Bind VolumeKind = iota
	// Anonymous is a docker-managed volume at the container path: -v DEST.
	Anonymous
	// Named is a named docker volume: -v NAME:DEST[:ro].
	Named
)

// String returns the kind's name.
func (k VolumeKind) String() string {
	switch k {
	case Bind:
		return "bind"
	case Anonymous:
		return "anonymous"
	case Named:
		return "named"
	}
	return "VolumeKind(" + strconv.Itoa(int(k)) + ")"
}

// Volume is one mount of the container.
type Volume struct {
	Kind          VolumeKind
	Source        string // host path (Bind) or volume name (Named)
	ContainerPath string
	ReadOnly      bool
}

// Ulimit is one resource limit: --ulimit Name=Soft:Hard.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Options are the tool's and the user's choices on top of the Spec.
type Options struct {
	NoEnv, NoVolumes bool              // +e, +v: do not copy the task's env / volumes
	Image, Tag       string            // override the image; replace only its tag
	Workdir, User    string            // override the task's
	Interactive, TTY bool              // -i (always, in practice); -t only with a PTY
	Name             string            // container name chosen by the tool
	Labels           map[string]string // labels chosen by the tool
	DockerArgs       []string          // the user's options, exact tokens, after the task's
	Command          []string
	// EnvArgs, when not nil, stand in for the task's -e NAME=VALUE options
	// (e.g. --env-file FIFO and -e NAME), so that values stay off the
	// command line. NoEnv drops them too.
	EnvArgs []string
	// DefaultInit adds --init (an init process as PID 1 that reaps children
	// and lets the command die on SIGINT/SIGTERM) unless the task disabled it
	// (Spec.NoInit) or the user's options mention --init.
	DefaultInit bool
}

// Build returns the docker run argv for spec and o:
//
//	docker run --rm -i [-t] [--name N] [--label k=v]... [--init] [--entrypoint E]
//	  [-u USER] [-w DIR] [-e NAME=VALUE]... [-v VOL]... [--ulimit n=s:h]...
//	  [--add-host h:ip]... [--dns ip]... [--label k=v]... DOCKERARGS...
//	  IMAGE [ENTRYPOINT[1:]...] COMMAND...
//
// Labels are sorted by key. If o.DockerArgs set their own --entrypoint the
// task's entrypoint (and its leading arguments) is dropped; if they contain
// --init, no second one is added. Build refuses input docker would read
// differently from what was meant, such as an image starting with "-", an
// environment name containing "=" or a dangling docker option.
func Build(spec Spec, o Options) ([]string, error) {
	image := spec.Image
	if o.Image != "" {
		image = o.Image
	}
	if o.Tag != "" {
		image = ReplaceTag(image, o.Tag)
	}
	if image == "" {
		return nil, errors.New("no image: the container has none and no --image was given")
	}
	if strings.HasPrefix(image, "-") {
		return nil, fmt.Errorf("invalid image %q: it must not start with -", image)
	}
	user, err := scanUserArgs(o.DockerArgs)
	if err != nil {
		return nil, err
	}

	argv := make([]string, 0, 16+2*len(spec.Env)+2*len(spec.Volumes)+len(o.DockerArgs)+len(spec.EntryPoint)+len(o.Command))
	argv = append(argv, "docker", "run", "--rm")
	if o.Interactive {
		argv = append(argv, "-i")
	}
	if o.TTY {
		argv = append(argv, "-t")
	}
	if o.Name != "" {
		argv = append(argv, "--name", o.Name)
	}
	if argv, err = appendLabels(argv, o.Labels); err != nil {
		return nil, err
	}
	if (spec.Init || o.DefaultInit && !spec.NoInit) && !user.init {
		argv = append(argv, "--init")
	}
	var epArgs []string
	if len(spec.EntryPoint) > 0 && !user.entrypoint {
		argv = append(argv, "--entrypoint", spec.EntryPoint[0])
		epArgs = spec.EntryPoint[1:]
	}
	if u := cmpOr(o.User, spec.User); u != "" {
		argv = append(argv, "-u", u)
	}
	if w := cmpOr(o.Workdir, spec.Workdir); w != "" {
		argv = append(argv, "-w", w)
	}
	if !o.NoEnv && o.EnvArgs != nil {
		argv = append(argv, o.EnvArgs...)
	} else if !o.NoEnv {
		for _, e := range spec.Env {
			if e.Name == "" || strings.Contains(e.Name, "=") {
				return nil, fmt.Errorf("invalid environment variable name %q", e.Name)
			}
			argv = append(argv, "-e", e.Name+"="+e.Value)
		}
	}
	if !o.NoVolumes {
		for _, v := range spec.Volumes {
			s, err := volumeArg(v)
			if err != nil {
				return nil, err
			}
			argv = append(argv, "-v", s)
		}
	}
	for _, u := range spec.Ulimits {
		if u.Name == "" {
			return nil, errors.New("ulimit without a name")
		}
		argv = append(argv, "--ulimit", u.Name+"="+strconv.FormatInt(u.Soft, 10)+":"+strconv.FormatInt(u.Hard, 10))
	}
	for _, h := range spec.ExtraHosts {
		argv = append(argv, "--add-host", h)
	}
	for _, d := range spec.DNSServers {
		argv = append(argv, "--dns", d)
	}
	if argv, err = appendLabels(argv, spec.Labels); err != nil {
		return nil, err
	}
	argv = append(argv, o.DockerArgs...)
	argv = append(argv, image)
	argv = append(argv, epArgs...)
	return append(argv, o.Command...), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func appendLabels(argv []string, labels map[string]string) ([]string, error) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if k == "" || strings.Contains(k, "=") {
			return nil, fmt.Errorf("invalid label key %q", k)
		}
		argv = append(argv, "--label", k+"="+labels[k])
	}
	return argv, nil
}

// volumeArg returns the value of -v for v.
func volumeArg(v Volume) (string, error) {
	if v.ContainerPath == "" {
		return "", fmt.Errorf("%s volume %q has no container path", v.Kind, v.Source)
	}
	var s string
	switch v.Kind {
	case Anonymous:
		// docker has no read-only anonymous volume in -v syntax; ro needs a source.
		return v.ContainerPath, nil
	case Bind, Named:
		if v.Source == "" {
			return "", fmt.Errorf("%s volume at %q has no source", v.Kind, v.ContainerPath)
		}
		s = v.Source + ":" + v.ContainerPath
	default:
		return "", fmt.Errorf("unknown volume kind %d at %q", int(v.Kind), v.ContainerPath)
	}
	if v.ReadOnly {
		s += ":ro"
	}
	return s, nil
}

// ReplaceTag returns image with its tag replaced by tag, leaving the
// registry (and its port) and the repository path alone; a digest is
// dropped. An empty tag returns image unchanged.
//
//	ReplaceTag("registry:5000/app:1.6", "2.0")  == "registry:5000/app:2.0"
//	ReplaceTag("registry:5000/app", "2.0")      == "registry:5000/app:2.0"
//	ReplaceTag("app@sha256:abc", "2.0")         == "app:2.0"
func ReplaceTag(image, tag string) string {
	if tag == "" {
		return image
	}
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	last := strings.LastIndexByte(image, '/') + 1
	if i := strings.IndexByte(image[last:], ':'); i >= 0 {
		image = image[:last+i]
	}
	return image + ":" + tag
}
