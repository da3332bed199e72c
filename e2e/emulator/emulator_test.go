package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

const bedState = "../testdata/state/bed.json"

// start serves the bed fixture (changed by edit, if not nil) on 127.0.0.1.
func start(t *testing.T, edit func(*State)) (*Server, string) {
	t.Helper()
	st, err := LoadState(bedState)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(st)
	}
	s := New(st)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// sdkConfig is a static-credential config whose standard retryer does not
// sleep between attempts.
func sdkConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

func clients(url string) (*awsecs.Client, *ec2.Client) {
	cfg := sdkConfig()
	e := awsecs.NewFromConfig(cfg, func(o *awsecs.Options) { o.BaseEndpoint = aws.String(url) })
	c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(url) })
	return e, c
}

func ops(calls []Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Service+":"+c.Op)
	}
	return out
}

func TestDescribeTaskDefinition(t *testing.T) {
	_, url := start(t, nil)
	ecsc, _ := clients(url)
	const family = "ecscompose-user-registration-service--alpha"
	tests := []struct {
		name      string
		in        string
		wantRev   int32
		wantImage string
		wantErr   bool
	}{
		{"family is latest", family, 2, "registry.example.com:5000/web:1.6.0", false},
		{"family:revision", family + ":1", 1, "registry.example.com:5000/web:1.5.0", false},
		{"arn", "arn:aws:ecs:us-east-1:123456789012:task-definition/web:6", 6, "registry.example.com:5000/web:1.5.0", false},
		{"unknown family", "nope", 0, "", true},
		{"unknown revision", family + ":9", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ecsc.DescribeTaskDefinition(context.Background(), &awsecs.DescribeTaskDefinitionInput{
				TaskDefinition: aws.String(tt.in), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
			})
			if tt.wantErr {
				var ce *types.ClientException
				if !errors.As(err, &ce) || ce.ErrorMessage() != "Unable to describe task definition." {
					t.Fatalf("err = %v, want ClientException", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			td := out.TaskDefinition
			if td.Revision != tt.wantRev || aws.ToString(td.ContainerDefinitions[0].Image) != tt.wantImage || td.Status != types.TaskDefinitionStatusActive {
				t.Errorf("got revision %d image %q status %s, want %d %q ACTIVE", td.Revision, aws.ToString(td.ContainerDefinitions[0].Image), td.Status, tt.wantRev, tt.wantImage)
			}
			if !strings.HasSuffix(aws.ToString(td.TaskDefinitionArn), ":task-definition/"+aws.ToString(td.Family)+":"+itoa(td.Revision)) {
				t.Errorf("arn %q does not match family and revision", aws.ToString(td.TaskDefinitionArn))
			}
		})
	}
}

func itoa(n int32) string { b, _ := json.Marshal(n); return string(b) }

func TestTaskDefinitionContents(t *testing.T) {
	_, url := start(t, nil)
	ecsc, _ := clients(url)
	ctx := context.Background()
	out, err := ecsc.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("ecscompose-user-registration-service--alpha")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.TaskDefinition.ContainerDefinitions[0]
	env := map[string]string{}
	for _, kv := range c.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	wantEnv := map[string]string{
		"DATABASE_NAME": "user-registration-db--alpha", "QUOTES": `it's "quoted"`,
		"DOLLAR": "$(touch /tmp/pwned) $HOME `id`", "NEWLINE": "line1\nline2",
		"SPACES": "  a  b  ", "UNICODE": "héllo ✓ 日本", "EMPTY": "",
	}
	if diff := cmp.Diff(env, wantEnv); diff != "" {
		t.Errorf("environment (-got +want):\n%s", diff)
	}
	var vols []string
	for _, v := range out.TaskDefinition.Volumes {
		kind := "other"
		switch {
		case v.Host != nil && v.Host.SourcePath != nil:
			kind = "host:" + *v.Host.SourcePath
		case v.Host != nil:
			kind = "host:{}"
		case v.DockerVolumeConfiguration != nil:
			kind = "docker:" + string(v.DockerVolumeConfiguration.Scope)
		case v.EfsVolumeConfiguration != nil:
			kind = "efs"
		}
		vols = append(vols, aws.ToString(v.Name)+"="+kind)
	}
	wantVols := []string{"ro=host:/tmp/ssh-ecs-e2e/ro", "rw=host:/tmp/ssh-ecs-e2e/rw", "scratch=host:{}", "dv=docker:task", "efs=efs"}
	if diff := cmp.Diff(vols, wantVols); diff != "" {
		t.Errorf("volumes (-got +want):\n%s", diff)
	}
	if len(c.MountPoints) != 5 || !aws.ToBool(c.MountPoints[0].ReadOnly) {
		t.Errorf("mount points = %+v, want 5 with /ro read-only", c.MountPoints)
	}

	web, err := ecsc.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	app := web.TaskDefinition.ContainerDefinitions[0]
	got := []string{aws.ToString(app.Name), aws.ToString(web.TaskDefinition.ContainerDefinitions[1].Name), aws.ToString(app.WorkingDirectory),
		aws.ToString(app.User), app.DockerLabels["team"], aws.ToString(app.ExtraHosts[0].Hostname), aws.ToString(web.Tags[0].Value)}
	want := []string{"app", "worker", "/srv", "", "web", "db.internal", "web"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("web:7 (-got +want):\n%s", diff)
	}
	if !aws.ToBool(app.LinuxParameters.InitProcessEnabled) || app.Ulimits[0].SoftLimit != 1024 || app.Ulimits[0].HardLimit != 2048 {
		t.Errorf("app linuxParameters/ulimits = %+v %+v", app.LinuxParameters, app.Ulimits)
	}
}

// TestEmptyListsOnTheWire checks that unset lists come back as [] like AWS.
func TestEmptyListsOnTheWire(t *testing.T) {
	_, url := start(t, nil)
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(`{"taskDefinition":"demo-web"}`))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		TaskDefinition struct {
			ContainerDefinitions []map[string]json.RawMessage `json:"containerDefinitions"`
			Volumes              json.RawMessage              `json:"volumes"`
		} `json:"taskDefinition"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	c := out.TaskDefinition.ContainerDefinitions[0]
	for _, k := range []string{"mountPoints", "volumesFrom", "portMappings"} {
		if string(c[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, c[k])
		}
	}
	if string(out.TaskDefinition.Volumes) != "[]" {
		t.Errorf("volumes = %s, want []", out.TaskDefinition.Volumes)
	}
}

func TestPagination(t *testing.T) {
	s, url := start(t, func(st *State) { st.PageSize = 2 })
	ecsc, ec2c := clients(url)
	ctx := context.Background()

	var clusters []string
	p := awsecs.NewListClustersPaginator(ecsc, &awsecs.ListClustersInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.ClusterArns {
			clusters = append(clusters, a[strings.LastIndex(a, "/")+1:])
		}
	}
	if diff := cmp.Diff(clusters, []string{"user-registration-service--alpha", "prod", "empty", "demo"}); diff != "" {
		t.Errorf("clusters (-got +want):\n%s", diff)
	}

	var arns []string
	cp := awsecs.NewListContainerInstancesPaginator(ecsc, &awsecs.ListContainerInstancesInput{
		Cluster: aws.String("user-registration-service--alpha"), Status: types.ContainerInstanceStatusActive,
	})
	for cp.HasMorePages() {
		out, err := cp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.ContainerInstanceArns...)
	}
	if len(arns) != 5 {
		t.Errorf("got %d ACTIVE container instances, want 5 (all but the DRAINING one)", len(arns))
	}

	var ids []string
	ip := ec2.NewDescribeInstancesPaginator(ec2c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for ip.HasMorePages() {
		out, err := ip.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	if len(ids) != 9 || ids[0] != "i-0a00000000000001" || ids[8] != "i-0d00000000000001" {
		t.Errorf("instances = %v, want the 9 of the fixture in order", ids)
	}

	got := map[string]int{}
	for _, c := range s.Calls() {
		got[c.Op]++
	}
	want := map[string]int{"ListClusters": 2, "ListContainerInstances": 3, "DescribeInstances": 5}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("pages per operation (-got +want):\n%s", diff)
	}
}

func TestContainerInstances(t *testing.T) {
	_, url := start(t, nil)
	ecsc, _ := clients(url)
	ctx := context.Background()
	const cluster = "user-registration-service--alpha"
	list, err := ecsc.ListContainerInstances(ctx, &awsecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ContainerInstanceArns) != 6 {
		t.Fatalf("unfiltered list has %d instances, want 6", len(list.ContainerInstanceArns))
	}
	refs := append([]string{}, list.ContainerInstanceArns...)
	// An id instead of an ARN, an unknown id and an ARN of another cluster.
	id := refs[1][strings.LastIndex(refs[1], "/")+1:]
	refs = append(refs, id, "ffffffffffffffffffffffffffffffff", strings.Replace(refs[0], cluster, "prod", 1))
	out, err := ecsc.DescribeContainerInstances(ctx, &awsecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: refs})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ci := range out.ContainerInstances {
		got = append(got, aws.ToString(ci.Ec2InstanceId)+" "+aws.ToString(ci.Status)+" "+map[bool]string{true: "connected", false: "disconnected"}[ci.AgentConnected])
	}
	want := []string{
		"i-0a00000000000001 ACTIVE connected", "i-0a00000000000002 ACTIVE connected", "i-0a00000000000003 ACTIVE connected",
		"i-0a00000000000004 DRAINING connected", "i-0a00000000000005 ACTIVE disconnected", "i-0a00000000000006 ACTIVE disconnected",
		"i-0a00000000000002 ACTIVE connected",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("container instances (-got +want):\n%s", diff)
	}
	var reasons []string
	for _, f := range out.Failures {
		reasons = append(reasons, aws.ToString(f.Reason))
	}
	if diff := cmp.Diff(reasons, []string{"MISSING", "MISSING"}); diff != "" {
		t.Errorf("failures (-got +want):\n%s", diff)
	}
}

func TestTypedErrors(t *testing.T) {
	_, url := start(t, nil)
	ecsc, ec2c := clients(url)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"list instances of unknown cluster", func() error {
			_, err := ecsc.ListContainerInstances(ctx, &awsecs.ListContainerInstancesInput{Cluster: aws.String("nope")})
			var cnf *types.ClusterNotFoundException
			if err != nil && !errors.As(err, &cnf) {
				t.Errorf("%v is not a *types.ClusterNotFoundException", err)
			}
			return err
		}, "ClusterNotFoundException"},
		{"describe instances of unknown cluster", func() error {
			_, err := ecsc.DescribeContainerInstances(ctx, &awsecs.DescribeContainerInstancesInput{Cluster: aws.String("nope"), ContainerInstances: []string{"x"}})
			return err
		}, "ClusterNotFoundException"},
		{"unknown instance id", func() error {
			_, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a00000000000001", "i-0fffffffffffffff0"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"unknown network interface", func() error {
			_, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0fffffffffffffff0"}})
			return err
		}, "InvalidNetworkInterfaceID.NotFound"},
		{"unknown ECS operation", func() error {
			_, err := ecsc.ListTaskDefinitions(ctx, &awsecs.ListTaskDefinitionsInput{})
			return err
		}, "UnknownOperationException"},
		{"unknown EC2 operation", func() error {
			_, err := ec2c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			return err
		}, "InvalidAction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an API error %s", err, tt.wantCode)
			}
			if ae.ErrorCode() != tt.wantCode || ae.ErrorMessage() == "" {
				t.Errorf("code %q message %q, want code %q and a message", ae.ErrorCode(), ae.ErrorMessage(), tt.wantCode)
			}
		})
	}
}

func TestDescribeInstances(t *testing.T) {
	_, url := start(t, nil)
	_, ec2c := clients(url)
	out, err := ec2c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a00000000000003", "i-0a00000000000006"}})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			name := "-"
			for _, tg := range in.Tags {
				if aws.ToString(tg.Key) == "Name" {
					name = aws.ToString(tg.Value)
				}
			}
			got = append(got, []string{aws.ToString(in.InstanceId), string(in.State.Name), aws.ToString(in.PrivateIpAddress),
				aws.ToString(in.PublicIpAddress), aws.ToString(in.PrivateDnsName), aws.ToString(in.PublicDnsName), name})
		}
	}
	want := [][]string{
		{"i-0a00000000000003", "running", "127.0.0.4", "127.0.1.4", "ip-127-0-0-4.ec2.internal", "ec2-127-0-1-4.compute-1.amazonaws.com", "user-registration-service-ecs-alpha-i-0a00000000000003"},
		{"i-0a00000000000006", "running", "127.0.0.11", "", "ip-127-0-0-11.ec2.internal", "", "-"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("instances (-got +want):\n%s", diff)
	}
}

func TestDescribeNetworkInterfaces(t *testing.T) {
	st, err := ParseState([]byte(`{"clusters":[],"instances":[],"taskDefinitions":[],"networkInterfaces":[
		{"networkInterfaceId":"eni-01","privateIp":"10.0.1.23","privateDns":"ip-10-0-1-23.ec2.internal","publicIp":"127.0.0.20"},
		{"networkInterfaceId":"eni-02","privateIp":"127.0.0.21"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(st))
	defer ts.Close()
	_, ec2c := clients(ts.URL)
	out, err := ec2c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-02", "eni-01"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range out.NetworkInterfaces {
		pub := "-"
		if n.Association != nil {
			pub = aws.ToString(n.Association.PublicIp)
		}
		got = append(got, aws.ToString(n.NetworkInterfaceId)+" "+aws.ToString(n.PrivateIpAddress)+" "+pub)
	}
	if diff := cmp.Diff(got, []string{"eni-02 127.0.0.21 -", "eni-01 10.0.1.23 127.0.0.20"}); diff != "" {
		t.Errorf("interfaces (-got +want):\n%s", diff)
	}
}

func TestClustersAndServices(t *testing.T) {
	_, url := start(t, nil)
	ecsc, _ := clients(url)
	ctx := context.Background()
	cl, err := ecsc.DescribeClusters(ctx, &awsecs.DescribeClustersInput{Clusters: []string{"prod", "arn:aws:ecs:us-east-1:123456789012:cluster/empty", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Clusters) != 2 || aws.ToString(cl.Clusters[0].ClusterName) != "prod" || cl.Clusters[0].RegisteredContainerInstancesCount != 2 ||
		len(cl.Failures) != 1 || aws.ToString(cl.Failures[0].Arn) != "arn:aws:ecs:us-east-1:123456789012:cluster/nope" {
		t.Errorf("DescribeClusters = %+v / %+v", cl.Clusters, cl.Failures)
	}

	ls, err := ecsc.ListServices(ctx, &awsecs.ListServicesInput{Cluster: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"arn:aws:ecs:us-east-1:123456789012:service/prod/api", "arn:aws:ecs:us-east-1:123456789012:service/prod/ssh-api"}
	if diff := cmp.Diff(ls.ServiceArns, want); diff != "" {
		t.Errorf("ListServices (-got +want):\n%s", diff)
	}

	ds, err := ecsc.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api", ls.ServiceArns[1], "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Services) != 2 || len(ds.Failures) != 1 || aws.ToString(ds.Failures[0].Reason) != "MISSING" {
		t.Fatalf("DescribeServices = %d services, failures %+v", len(ds.Services), ds.Failures)
	}
	api, ssh := ds.Services[0], ds.Services[1]
	got := []string{aws.ToString(api.TaskDefinition), string(api.LaunchType), aws.ToString(api.Deployments[0].Status), aws.ToString(api.Deployments[0].TaskDefinition),
		aws.ToString(ssh.TaskDefinition), string(ssh.LaunchType), aws.ToString(ssh.PlatformVersion),
		strings.Join(ssh.NetworkConfiguration.AwsvpcConfiguration.Subnets, ","), strings.Join(ssh.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups, ","),
		string(ssh.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp)}
	wantSvc := []string{"arn:aws:ecs:us-east-1:123456789012:task-definition/web:7", "EC2", "PRIMARY", "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
		"arn:aws:ecs:us-east-1:123456789012:task-definition/ssh-login:1", "FARGATE", "1.4.0",
		"subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002", "sg-0a1b2c3d4e5f60001", "ENABLED"}
	if diff := cmp.Diff(got, wantSvc); diff != "" {
		t.Errorf("services (-got +want):\n%s", diff)
	}
}

func TestFaultsAreRetried(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		call       func(*awsecs.Client, *ec2.Client) error
		op         string
		wantStatus []int
		wantErr    string
	}{
		{"ECS throttling", Fault{Throttle: 2}, listClusters, "ListClusters", []int{400, 400, 200}, ""},
		{"ECS server error", Fault{ServerError: 1}, listClusters, "ListClusters", []int{500, 200}, ""},
		{"EC2 throttling", Fault{Throttle: 2}, describeInstance, "DescribeInstances", []int{503, 503, 200}, ""},
		{"EC2 server error", Fault{ServerError: 2}, describeInstance, "DescribeInstances", []int{500, 500, 200}, ""},
		{"throttled beyond max attempts", Fault{Throttle: 5}, listClusters, "ListClusters", []int{400, 400, 400}, "ThrottlingException"},
		{"wildcard", Fault{Throttle: 1}, listClusters, "*", []int{400, 200}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := start(t, nil)
			ecsc, ec2c := clients(url)
			s.SetFault(tt.op, tt.fault)
			err := tt.call(ecsc, ec2c)
			var ae smithy.APIError
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("call failed: %v", err)
			case tt.wantErr != "" && (!errors.As(err, &ae) || ae.ErrorCode() != tt.wantErr):
				t.Fatalf("err = %v, want %s", err, tt.wantErr)
			}
			var status []int
			for _, c := range s.Calls() {
				status = append(status, c.Status)
			}
			if diff := cmp.Diff(status, tt.wantStatus); diff != "" {
				t.Errorf("attempt statuses (-got +want):\n%s", diff)
			}
		})
	}
}

func listClusters(e *awsecs.Client, _ *ec2.Client) error {
	_, err := e.ListClusters(context.Background(), &awsecs.ListClustersInput{})
	return err
}

func describeInstance(_ *awsecs.Client, c *ec2.Client) error {
	_, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0b00000000000001"}})
	return err
}

func TestLatencyFault(t *testing.T) {
	s, url := start(t, nil)
	ecsc, _ := clients(url)
	s.SetFault("ListClusters", Fault{Latency: 50 * time.Millisecond})
	begin := time.Now()
	if err := listClusters(ecsc, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Errorf("call took %v, want at least the injected 50ms", d)
	}
	// A latency longer than the caller's deadline makes the call fail.
	s.SetFault("ListClusters", Fault{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := ecsc.ListClusters(ctx, &awsecs.ListClustersInput{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	// Other operations are not delayed: a zero fault removes it.
	s.SetFault("ListClusters", Fault{})
	if err := listClusters(ecsc, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCallLogAndControl(t *testing.T) {
	s, url := start(t, nil)
	ecsc, ec2c := clients(url)
	ctx := context.Background()
	if _, err := ecsc.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.ListContainerInstances(ctx, &awsecs.ListContainerInstancesInput{Cluster: aws.String("prod"), Status: types.ContainerInstanceStatusActive}); err != nil {
		t.Fatal(err)
	}
	if err := describeInstance(ecsc, ec2c); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	if diff := cmp.Diff(ops(calls), []string{"ecs:DescribeTaskDefinition", "ecs:ListContainerInstances", "ec2:DescribeInstances"}); diff != "" {
		t.Errorf("ops (-got +want):\n%s", diff)
	}
	if !strings.Contains(calls[1].Body, `"status":"ACTIVE"`) || calls[2].Params.Get("InstanceId.1") != "i-0b00000000000001" {
		t.Errorf("bodies not recorded: %q %v", calls[1].Body, calls[2].Params)
	}

	// The same log over HTTP, then faults and reset through the control API.
	var remote []Call
	getJSON(t, url+"/_emulator/calls", &remote)
	if diff := cmp.Diff(remote, calls); diff != "" {
		t.Errorf("GET /_emulator/calls (-got +want):\n%s", diff)
	}
	post(t, url+"/_emulator/faults", `{"ListClusters":{"throttle":1,"latency":"1ms"}}`, http.StatusNoContent)
	post(t, url+"/_emulator/faults", `{"ListClusters":{"bogus":1}}`, http.StatusBadRequest)
	post(t, url+"/_emulator/reset-calls", "", http.StatusNoContent)
	if err := listClusters(ecsc, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ops(s.Calls()), []string{"ecs:ListClusters", "ecs:ListClusters"}); diff != "" {
		t.Errorf("ops after reset and fault (-got +want):\n%s", diff)
	}
	s.ResetCalls()
	if got := s.Calls(); len(got) != 0 {
		t.Errorf("calls after ResetCalls = %v", got)
	}
	post(t, url+"/_emulator/nope", "", http.StatusNotFound)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, url, body string, wantStatus int) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Errorf("POST %s = %d %s, want %d", url, resp.StatusCode, b, wantStatus)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	_, url := start(t, nil)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            url,
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL_ECS":        "",
		"AWS_ENDPOINT_URL_EC2":        "",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := awsecs.NewFromConfig(cfg).ListClusters(ctx, &awsecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ClusterArns) != 4 {
		t.Errorf("clusters = %v, want the 4 of the fixture", out.ClusterArns)
	}
	if _, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0d00000000000001"}}); err != nil {
		t.Fatal(err)
	}
}

func TestParseStateErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"unknown key", `{"clusters":[],"instances":[],"taskDefinitions":[],"bogus":1}`, "bogus"},
		{"unknown EC2 instance", `{"clusters":[{"name":"c","containerInstances":[{"ec2InstanceId":"i-1"}]}],"instances":[],"taskDefinitions":[]}`, "i-1"},
		{"unknown service task definition", `{"clusters":[{"name":"c","services":[{"serviceName":"s","taskDefinition":"x:1"}]}],"instances":[],"taskDefinitions":[]}`, "x:1"},
		{"duplicate cluster", `{"clusters":[{"name":"c"},{"name":"c"}],"instances":[],"taskDefinitions":[]}`, "twice"},
		{"task definition without family", `{"clusters":[],"instances":[],"taskDefinitions":[{"revision":1}]}`, "family"},
		{"duplicate revision", `{"clusters":[],"instances":[],"taskDefinitions":[{"family":"f","revision":1},{"family":"f","revision":1}]}`, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseState([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
