package ecs

import (
	"errors"
	"strings"
	"testing"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// hostile are environment values that a shell or a naive pipeline would
// change; they must pass through unchanged.
var hostile = []dockercmd.EnvVar{
	{Name: "QUOTES", Value: `it's "quoted" \ back\slash`},
	{Name: "SUBST", Value: "$(rm -rf /) `id` ${HOME} $$"},
	{Name: "NEWLINES", Value: "line1\nline2\r\n\tindented"},
	{Name: "UNICODE", Value: "héllo wörld 日本語 🚀"},
	{Name: "EMPTY", Value: ""},
	{Name: "SPACES", Value: "  two  spaces  "},
	{Name: "GLOB", Value: "* ? [a-z] ~"},
	{Name: "EQUALS", Value: "a=b=c"},
}

func TestContainerSpec(t *testing.T) {
	var env []ecstypes.KeyValuePair
	for _, e := range hostile {
		env = append(env, ecstypes.KeyValuePair{Name: ptr(e.Name), Value: ptr(e.Value)})
	}
	env = append(env, ecstypes.KeyValuePair{Name: ptr("NILVALUE")})
	td := &ecstypes.TaskDefinition{
		TaskDefinitionArn: ptr(tdARN),
		Volumes: []ecstypes.Volume{
			{Name: ptr("data"), Host: &ecstypes.HostVolumeProperties{SourcePath: ptr("/srv/data dir")}},
			{Name: ptr("scratch"), Host: &ecstypes.HostVolumeProperties{}},
			{Name: ptr("bare")},
			{Name: ptr("dv"), DockerVolumeConfiguration: &ecstypes.DockerVolumeConfiguration{Driver: ptr("local")}},
			{Name: ptr("efs"), EfsVolumeConfiguration: &ecstypes.EFSVolumeConfiguration{FileSystemId: ptr("fs-1")}},
			{Name: ptr("fsx"), FsxWindowsFileServerVolumeConfiguration: &ecstypes.FSxWindowsFileServerVolumeConfiguration{FileSystemId: ptr("fs-2")}},
			{Name: ptr("unused-efs"), EfsVolumeConfiguration: &ecstypes.EFSVolumeConfiguration{FileSystemId: ptr("fs-3")}},
		},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name:             ptr("app"),
			Image:            ptr("registry:5000/app:1.6"),
			User:             ptr("1000:1000"),
			WorkingDirectory: ptr("/app"),
			EntryPoint:       []string{"/bin/sh", "-c"},
			Command:          []string{"not", "copied"},
			Environment:      env,
			LinuxParameters:  &ecstypes.LinuxParameters{InitProcessEnabled: ptr(true)},
			Ulimits: []ecstypes.Ulimit{
				{Name: ecstypes.UlimitNameNofile, SoftLimit: 1024, HardLimit: 4096},
				{Name: ecstypes.UlimitNameCore, SoftLimit: -1, HardLimit: -1},
			},
			ExtraHosts:   []ecstypes.HostEntry{{Hostname: ptr("db"), IpAddress: ptr("10.0.0.5")}, {Hostname: ptr("v6"), IpAddress: ptr("::1")}},
			DnsServers:   []string{"10.0.0.2", "1.1.1.1"},
			DockerLabels: map[string]string{"team": "web", "quote": `a'b"c`},
			MountPoints: []ecstypes.MountPoint{
				{SourceVolume: ptr("data"), ContainerPath: ptr("/data"), ReadOnly: ptr(true)},
				{SourceVolume: ptr("scratch"), ContainerPath: ptr("/scratch"), ReadOnly: ptr(false)},
				{SourceVolume: ptr("bare"), ContainerPath: ptr("/bare")},
				{SourceVolume: ptr("dv"), ContainerPath: ptr("/dv"), ReadOnly: ptr(true)},
				{SourceVolume: ptr("efs"), ContainerPath: ptr("/efs")},
				{SourceVolume: ptr("fsx"), ContainerPath: ptr("/fsx")},
				{SourceVolume: ptr("ghost"), ContainerPath: ptr("/ghost")},
			},
			VolumesFrom:      []ecstypes.VolumeFrom{{SourceContainer: ptr("sidecar")}},
			Secrets:          []ecstypes.Secret{{Name: ptr("DB_PASSWORD"), ValueFrom: ptr("arn:ssm")}, {Name: ptr("API_KEY"), ValueFrom: ptr("arn:sm")}},
			EnvironmentFiles: []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: ptr("arn:aws:s3:::b/app.env")}},
		}},
	}
	got, warnings, err := containerSpec(td, &td.ContainerDefinitions[0])
	if err != nil {
		t.Fatal(err)
	}
	want := dockercmd.Spec{
		Name:       "app",
		Image:      "registry:5000/app:1.6",
		User:       "1000:1000",
		Workdir:    "/app",
		Env:        append(append([]dockercmd.EnvVar(nil), hostile...), dockercmd.EnvVar{Name: "NILVALUE"}),
		EntryPoint: []string{"/bin/sh", "-c"},
		Init:       true,
		Ulimits:    []dockercmd.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}, {Name: "core", Soft: -1, Hard: -1}},
		ExtraHosts: []string{"db:10.0.0.5", "v6:::1"},
		DNSServers: []string{"10.0.0.2", "1.1.1.1"},
		Labels:     map[string]string{"team": "web", "quote": `a'b"c`},
		Volumes: []dockercmd.Volume{
			{Kind: dockercmd.Bind, Source: "/srv/data dir", ContainerPath: "/data", ReadOnly: true},
			{Kind: dockercmd.Anonymous, ContainerPath: "/scratch"},
			{Kind: dockercmd.Anonymous, ContainerPath: "/bare"},
			{Kind: dockercmd.Named, Source: "dv", ContainerPath: "/dv", ReadOnly: true},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		`volume "efs" (EFS) mounted at /efs cannot be reproduced with docker run; skipped`,
		`volume "fsx" (FSx for Windows File Server) mounted at /fsx cannot be reproduced with docker run; skipped`,
		`volume "ghost" mounted at /ghost is not defined in the task definition; skipped`,
		`volumes from container "sidecar" not copied (it does not run beside this one)`,
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// The spec must not share memory with the SDK structure.
	td.ContainerDefinitions[0].DockerLabels["team"] = "changed"
	td.ContainerDefinitions[0].EntryPoint[0] = "changed"
	if got.Labels["team"] != "web" || got.EntryPoint[0] != "/bin/sh" {
		t.Errorf("spec aliases the task definition: %v %v", got.Labels, got.EntryPoint)
	}
}

func TestContainerSpecMinimal(t *testing.T) {
	// AWS may omit every list; nothing must be invented.
	td := &ecstypes.TaskDefinition{TaskDefinitionArn: ptr(tdARN), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: ptr("web"), Image: ptr("nginx")}}}
	got, warnings, err := containerSpec(td, &td.ContainerDefinitions[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dockercmd.Spec{Name: "web", Image: "nginx"}, got); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none", warnings)
	}
}

func TestPickContainer(t *testing.T) {
	td := &ecstypes.TaskDefinition{
		TaskDefinitionArn: ptr(tdARN),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: ptr("web")}, {Name: ptr("2")}, {Name: ptr("worker")},
		},
	}
	tests := []struct {
		sel, want, wantErr string
	}{
		{sel: "", want: "web"},
		{sel: "0", want: "web"},
		{sel: "1", want: "2"},
		{sel: "2", want: "2"}, // a name made of digits wins over the index
		{sel: "worker", want: "worker"},
		{sel: "Worker", wantErr: `container "Worker" not found in task definition ` + tdARN + `; containers: 0=web, 1=2, 2=worker`},
		{sel: "3", wantErr: `container "3" not found`},
		{sel: "-1", wantErr: `container "-1" not found`},
		{sel: "01x", wantErr: `container "01x" not found`},
	}
	for _, tt := range tests {
		got, err := pickContainer(td, tt.sel)
		if tt.wantErr != "" {
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Msg, tt.wantErr) || !strings.Contains(e.Hint, "--container") {
				t.Errorf("pickContainer(%q) error = %v, want %q with a --container hint", tt.sel, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("pickContainer(%q): %v", tt.sel, err)
			continue
		}
		if str(got.Name) != tt.want {
			t.Errorf("pickContainer(%q) = %s, want %s", tt.sel, str(got.Name), tt.want)
		}
	}
	if _, err := pickContainer(&ecstypes.TaskDefinition{TaskDefinitionArn: ptr(tdARN)}, ""); err == nil || !strings.Contains(err.Error(), "has no containers") {
		t.Errorf("empty task definition: error = %v", err)
	}
}
