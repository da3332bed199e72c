package ecs

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// pickContainer returns the container definition named sel, or at the
// 0-based index sel, of td ("" is index 0). A name wins over an index, since
// ECS allows container names made of digits.
func pickContainer(td *ecstypes.TaskDefinition, sel string) (*ecstypes.ContainerDefinition, error) {
	defs := td.ContainerDefinitions
	arn := str(td.TaskDefinitionArn)
	if len(defs) == 0 {
		return nil, &Error{Msg: fmt.Sprintf("task definition %s has no containers", arn)}
	}
	if sel == "" {
		return &defs[0], nil
	}
	for i := range defs {
		if str(defs[i].Name) == sel {
			return &defs[i], nil
		}
	}
	if n, err := strconv.Atoi(sel); err == nil && isDigits(sel) {
		if n < len(defs) {
			return &defs[n], nil
		}
	}
	names := make([]string, len(defs))
	for i := range defs {
		names[i] = fmt.Sprintf("%d=%s", i, str(defs[i].Name))
	}
	return nil, &Error{
		Msg:  fmt.Sprintf("container %q not found in task definition %s; containers: %s", sel, arn, strings.Join(names, ", ")),
		Hint: "pass --container NAME or --container INDEX (0-based)",
	}
}

// containerSpec translates one container definition of td into the plain
// spec dockercmd needs (SPEC §4), plus warnings about what cannot be copied.
// Secrets and environment files are left to containerSecrets.
func containerSpec(td *ecstypes.TaskDefinition, c *ecstypes.ContainerDefinition) (dockercmd.Spec, []string, error) {
	name := str(c.Name)
	spec := dockercmd.Spec{
		Name:       name,
		Image:      str(c.Image),
		User:       str(c.User),
		Workdir:    str(c.WorkingDirectory),
		EntryPoint: clone(c.EntryPoint),
		DNSServers: clone(c.DnsServers),
	}
	if spec.Image == "" {
		return dockercmd.Spec{}, nil, &Error{
			Msg:  fmt.Sprintf("container %q of task definition %s has no image", name, str(td.TaskDefinitionArn)),
			Hint: "pass --image IMAGE",
		}
	}
	for _, kv := range c.Environment {
		spec.Env = append(spec.Env, dockercmd.EnvVar{Name: str(kv.Name), Value: str(kv.Value)})
	}
	if lp := c.LinuxParameters; lp != nil && lp.InitProcessEnabled != nil {
		spec.Init = *lp.InitProcessEnabled
		spec.NoInit = !*lp.InitProcessEnabled
	}
	for _, u := range c.Ulimits {
		spec.Ulimits = append(spec.Ulimits, dockercmd.Ulimit{Name: string(u.Name), Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
	}
	for _, h := range c.ExtraHosts {
		spec.ExtraHosts = append(spec.ExtraHosts, str(h.Hostname)+":"+str(h.IpAddress))
	}
	if len(c.DockerLabels) > 0 {
		spec.Labels = maps.Clone(c.DockerLabels)
	}

	var warnings []string
	spec.Volumes, warnings = volumes(td, c)

	return spec, warnings, nil
}

// volumes translates the mount points of c, in their order, using the
// volumes of td.
func volumes(td *ecstypes.TaskDefinition, c *ecstypes.ContainerDefinition) ([]dockercmd.Volume, []string) {
	byName := make(map[string]*ecstypes.Volume, len(td.Volumes))
	for i := range td.Volumes {
		byName[str(td.Volumes[i].Name)] = &td.Volumes[i]
	}
	var (
		out      []dockercmd.Volume
		warnings []string
	)
	for _, mp := range c.MountPoints {
		src, path := str(mp.SourceVolume), str(mp.ContainerPath)
		ro := mp.ReadOnly != nil && *mp.ReadOnly
		v, ok := byName[src]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("volume %q mounted at %s is not defined in the task definition; skipped", src, path))
			continue
		}
		switch kind := volumeKind(v); kind {
		case "host":
			out = append(out, dockercmd.Volume{Kind: dockercmd.Bind, Source: *v.Host.SourcePath, ContainerPath: path, ReadOnly: ro})
		case "docker":
			out = append(out, dockercmd.Volume{Kind: dockercmd.Named, Source: src, ContainerPath: path, ReadOnly: ro})
		case "":
			// host: {} or no configuration at all: the Docker daemon picks
			// the host path, which is what an anonymous volume does.
			out = append(out, dockercmd.Volume{Kind: dockercmd.Anonymous, ContainerPath: path, ReadOnly: ro})
		default:
			warnings = append(warnings, fmt.Sprintf("volume %q (%s) mounted at %s cannot be reproduced with docker run; skipped", src, kind, path))
		}
	}
	for _, vf := range c.VolumesFrom {
		warnings = append(warnings, fmt.Sprintf("volumes from container %q not copied (it does not run beside this one)", str(vf.SourceContainer)))
	}
	return out, warnings
}

// volumeKind names the configuration of v: "host" (a host path), "docker"
// (a Docker volume), "" (Docker-managed host path), or the name of a kind
// docker run cannot mount.
func volumeKind(v *ecstypes.Volume) string {
	switch {
	case v.EfsVolumeConfiguration != nil:
		return "EFS"
	case v.FsxWindowsFileServerVolumeConfiguration != nil:
		return "FSx for Windows File Server"
	case v.S3filesVolumeConfiguration != nil:
		return "S3 Files"
	case v.ConfiguredAtLaunch != nil && *v.ConfiguredAtLaunch:
		return "configured at launch"
	case v.DockerVolumeConfiguration != nil:
		return "docker"
	case v.Host != nil && v.Host.SourcePath != nil && *v.Host.SourcePath != "":
		return "host"
	}
	return ""
}

// str dereferences an optional SDK string.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func clone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
