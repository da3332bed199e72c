package ecs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
)

const tdARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/ecscompose-web--staging:7"

func testTD() ecstypes.TaskDefinition {
	return ecstypes.TaskDefinition{
		TaskDefinitionArn: ptr(tdARN),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: ptr("web"), Image: ptr("registry:5000/web:1.6")},
			{Name: ptr("worker"), Image: ptr("registry:5000/worker:1.6")},
		},
	}
}

// testHosts: 1, 3 and 5 are usable; 2 has no agent; 4 is DRAINING; 3 has no
// Name tag.
func testHosts() []host {
	return []host{
		{n: 1, agent: true, name: "web-staging-a"},
		{n: 2, agent: false, name: "web-staging-b"},
		{n: 3, agent: true},
		{n: 4, agent: true, status: "DRAINING", name: "web-staging-d"},
		{n: 5, agent: true, name: "web-staging-e"},
	}
}

func testWorld() *world {
	td := testTD()
	return &world{
		clusters: map[string][]host{"web--staging": testHosts(), "other": nil, "prod": {{n: 9, agent: true, name: "prod-a"}}},
		tds: map[string]ecstypes.TaskDefinition{
			"ecscompose-web--staging":   td,
			"ecscompose-web--staging:7": td,
			tdARN:                       td,
		},
	}
}

func TestGuessCluster(t *testing.T) {
	tests := []struct{ task, want string }{
		{"ecscompose-web--staging", "web--staging"},
		{"ecscompose-web--staging:7", "web--staging"},
		{"web-task:3", "web-task"},
		{"web-task", "web-task"},
		{tdARN, "web--staging"},
		{"arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/api:12", "api"},
		{"my-ecscompose-x", "my-ecscompose-x"},
		{"ecscompose-", ""},
		{"name:with:colon", "name:with:colon"},
	}
	for _, tt := range tests {
		if got := GuessCluster(tt.task); got != tt.want {
			t.Errorf("GuessCluster(%q) = %q, want %q", tt.task, got, tt.want)
		}
	}
}

// seq returns an Intn that answers the given values in turn and records n.
func seq(ns *[]int, vals ...int) func(int) int {
	i := 0
	return func(n int) int {
		*ns = append(*ns, n)
		v := vals[i%len(vals)]
		i++
		return v
	}
}

func TestResolveInstanceSelection(t *testing.T) {
	tests := []struct {
		name     string
		instance string
		intn     []int
		wantID   string
		wantErr  string // substring
	}{
		{name: "default random picks by Intn", instance: "", intn: []int{1}, wantID: ec2ID(3)},
		{name: "-1 is random", instance: "-1", intn: []int{2}, wantID: ec2ID(5)},
		{name: "index 0", instance: "0", wantID: ec2ID(1)},
		{name: "index skips unusable", instance: "1", wantID: ec2ID(3)},
		{name: "index 2", instance: "2", wantID: ec2ID(5)},
		{name: "index out of range", instance: "3", wantErr: `--instance 3: cluster "web--staging" (guessed from task "ecscompose-web--staging") has 3 usable container instances (indexes 0 to 2)`},
		{name: "ec2 id", instance: ec2ID(3), wantID: ec2ID(3)},
		{name: "ec2 id without agent", instance: ec2ID(2), wantErr: "container instance " + ec2ID(2) + ` of cluster "web--staging" (guessed from task "ecscompose-web--staging") cannot run tasks: ECS agent not connected`},
		{name: "ec2 id draining", instance: ec2ID(4), wantErr: "cannot run tasks: status DRAINING"},
		{name: "ec2 id elsewhere", instance: ec2ID(9), wantErr: ec2ID(9) + ` is not an ACTIVE container instance of cluster "web--staging" (guessed from task "ecscompose-web--staging") in region us-east-1; usable instances: ` + ec2ID(1) + ", " + ec2ID(3) + ", " + ec2ID(5)},
		{name: "container instance id", instance: ciID(5), wantID: ec2ID(5)},
		{name: "container instance arn", instance: ciARN(1), wantID: ec2ID(1)},
		{name: "container instance id draining", instance: ciID(4), wantErr: "cannot run tasks: status DRAINING"},
		{name: "container instance id unknown", instance: ciID(77), wantErr: ciID(77) + " is not an ACTIVE container instance"},
		{name: "pattern on name", instance: "staging-e$", wantID: ec2ID(5)},
		{name: "pattern first match in list order", instance: "web-staging", wantID: ec2ID(1)},
		{name: "pattern skips agent-less and draining", instance: "staging-[bd]", wantErr: `--instance "staging-[bd]" matches no usable container instance`},
		{name: "pattern on id of instance without Name tag", instance: "0+3$", wantID: ec2ID(3)},
		{name: "numeric-looking id fragment is a pattern", instance: "i-0000", wantID: ec2ID(1)},
		{name: "no match lists what was tried", instance: "nope", wantErr: `tried: web-staging-a (` + ec2ID(1) + `), ` + ec2ID(3) + ` (no Name tag), web-staging-e (` + ec2ID(5) + `)`},
		{name: "bad regexp", instance: "web(", wantErr: `--instance "web(": not an index, an instance id or a valid regular expression`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld()
			var ns []int
			intn := func(int) int { t.Fatal("Intn called for a non-random selection"); return 0 }
			if tt.intn != nil {
				intn = seq(&ns, tt.intn...)
			}
			if tt.wantErr == "" {
				r1 := round1
				if ec2IDRe.MatchString(tt.instance) {
					// The instance is also listed by id, whatever its status.
					r1 = map[string]int{"DescribeTaskDefinition": 1, "ListContainerInstances": 2}
				}
				w.before = barrier(r1)
			}
			got, err := w.resolver(intn).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", Instance: tt.instance})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve error = %v, want it to contain %q", err, tt.wantErr)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %T is not an *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.Instance.ID != tt.wantID {
				t.Errorf("instance = %s, want %s", got.Instance.ID, tt.wantID)
			}
			if tt.intn != nil && !cmp.Equal(ns, []int{3}) {
				t.Errorf("Intn called with %v, want [3] (the usable instances)", ns)
			}
			if d := w.maxDepth(); d > 3 {
				t.Errorf("%d sequential rounds of AWS calls, want at most 3: %v", d, w.calls)
			}
		})
	}
}

func TestResolveRandomCoversAllUsable(t *testing.T) {
	w := testWorld()
	i := 0
	intn := func(n int) int { i++; return (i - 1) % n }
	seen := map[string]int{}
	for range 9 {
		got, err := w.resolver(intn).Resolve(context.Background(), Request{Task: "ecscompose-web--staging"})
		if err != nil {
			t.Fatal(err)
		}
		seen[got.Instance.ID]++
	}
	want := map[string]int{ec2ID(1): 3, ec2ID(3): 3, ec2ID(5): 3}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("instances chosen (-want +got):\n%s", diff)
	}
}

func TestResolveDefaultRandomUsesMathRand(t *testing.T) {
	w := testWorld()
	seen := map[string]bool{}
	for range 200 {
		got, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging"})
		if err != nil {
			t.Fatal(err)
		}
		seen[got.Instance.ID] = true
	}
	for _, id := range []string{ec2ID(2), ec2ID(4)} {
		if seen[id] {
			t.Errorf("unusable instance %s chosen", id)
		}
	}
	// 200 draws among 3 miss one with probability 3·(2/3)^200 ≈ 1e-35.
	if len(seen) != 3 {
		t.Errorf("chose %v, want all 3 usable instances over 200 draws", seen)
	}
}

func TestResolveTarget(t *testing.T) {
	w := testWorld()
	got, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging:7", Container: "worker", Instance: "web-staging-a", Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Target{
		Cluster:        "web--staging",
		TaskDefinition: tdARN,
		Container:      got.Container, // checked below
		Instance: Instance{
			ID:                   ec2ID(1),
			ContainerInstanceARN: ciARN(1),
			Name:                 "web-staging-a",
			PrivateIP:            "10.0.0.1",
			PrivateDNS:           "ip-1.ec2.internal",
		},
		Host: "web-staging-a.example.com",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	if got.Container.Name != "worker" || got.Container.Image != "registry:5000/worker:1.6" {
		t.Errorf("container = %+v, want worker", got.Container)
	}
}

func TestResolveAddress(t *testing.T) {
	tests := []struct {
		address, domain, instance string
		want, wantErr             string
	}{
		{instance: "web-staging-e", want: privIP(5)},
		{address: "private-ip", instance: "web-staging-e", want: privIP(5)},
		{address: "public-ip", instance: "web-staging-e", wantErr: "instance " + ec2ID(5) + " has no public IP address (--address public-ip)"},
		{address: "public-dns", instance: "web-staging-e", wantErr: "has no public DNS name"},
		{address: "private-dns", instance: "web-staging-e", want: "ip-5.ec2.internal"},
		{address: "name", instance: "web-staging-e", want: "web-staging-e"},
		{domain: "corp.example", instance: "web-staging-e", want: "web-staging-e.corp.example"},
		{address: "name", domain: ".corp.example", instance: "web-staging-e", want: "web-staging-e.corp.example"},
		{address: "private-ip", domain: "corp.example", instance: "web-staging-e", want: privIP(5)},
		{address: "id", instance: "web-staging-e", want: ec2ID(5)},
		{address: "name", instance: ec2ID(3), wantErr: "instance " + ec2ID(3) + " has no Name tag (--address name)"},
		{domain: "corp.example", instance: ec2ID(3), wantErr: "has no Name tag"},
		{address: "ipv6", instance: "web-staging-e", wantErr: `--address "ipv6": unknown kind`},
	}
	for _, tt := range tests {
		t.Run(tt.address+"/"+tt.domain+"/"+tt.instance, func(t *testing.T) {
			w := testWorld()
			got, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", Instance: tt.instance, Address: tt.address, Domain: tt.domain})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Host != tt.want {
				t.Errorf("Host = %q, want %q", got.Host, tt.want)
			}
		})
	}
}

func TestHostForHint(t *testing.T) {
	_, err := HostFor(Instance{ID: "i-1", PrivateIP: "10.0.0.1", PrivateDNS: "ip"}, "public-ip", "")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if want := "try --address private-ip or --address private-dns or --address id"; e.Hint != want {
		t.Errorf("hint = %q, want %q", e.Hint, want)
	}
}

// TestResolveRoundTrips checks that DescribeTaskDefinition and
// ListContainerInstances are both in flight before either returns, and that
// no call is more than three sequential rounds deep.
func TestResolveRoundTrips(t *testing.T) {
	tests := []struct {
		name   string
		req    Request
		rounds []map[string]int // calls that must be in flight together
	}{
		{"random", Request{Task: "ecscompose-web--staging"}, []map[string]int{round1}},
		{"index", Request{Task: "ecscompose-web--staging", Instance: "2"}, []map[string]int{round1}},
		{"ec2 id", Request{Task: "ecscompose-web--staging", Instance: ec2ID(5)}, []map[string]int{{"DescribeTaskDefinition": 1, "ListContainerInstances": 2}}},
		{"container instance id", Request{Task: "ecscompose-web--staging", Instance: ciID(5)}, []map[string]int{round1}},
		{"pattern", Request{Task: "ecscompose-web--staging", Instance: "e$"}, []map[string]int{round1}},
		{"service", Request{Service: "web", Cluster: "web--staging", Instance: "e$"}, []map[string]int{
			{"DescribeServices": 1, "ListContainerInstances": 1},
			{"DescribeTaskDefinition": 1, "DescribeContainerInstances": 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld()
			w.services = map[string][]ecstypes.Service{"web--staging": {{ServiceName: ptr("web"), TaskDefinition: ptr(tdARN)}}}
			w.before = barrier(tt.rounds...)
			got, err := w.resolver(func(int) int { return 2 }).Resolve(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Instance.ID != ec2ID(5) {
				t.Errorf("instance = %s, want %s", got.Instance.ID, ec2ID(5))
			}
			if d := w.maxDepth(); d > 3 {
				t.Errorf("%d sequential rounds of AWS calls, want at most 3: %v", d, w.calls)
			}
			if n := w.count("DescribeInstances"); n != 1 {
				t.Errorf("%d DescribeInstances calls, want 1", n)
			}
		})
	}
}

// round1 is the first round of EC2 mode.
var round1 = map[string]int{"DescribeTaskDefinition": 1, "ListContainerInstances": 1}

// barrier makes calls wait for each other: each group maps operations to
// how many calls of them must all have started before any of them proceeds.
// A call joins the first group that still expects its operation. Unless the
// code issues a group's calls concurrently, the test fails on the guard.
func barrier(groups ...map[string]int) func(context.Context, string) error {
	type gate struct {
		need, got map[string]int
		open      chan struct{}
	}
	var (
		mu    sync.Mutex
		gates []*gate
	)
	for _, g := range groups {
		gates = append(gates, &gate{need: g, got: map[string]int{}, open: make(chan struct{})})
	}
	return func(ctx context.Context, op string) error {
		mu.Lock()
		var g *gate
		for _, c := range gates {
			if c.got[op] < c.need[op] {
				g = c
				break
			}
		}
		if g == nil {
			mu.Unlock()
			return nil
		}
		g.got[op]++
		if maps.Equal(g.got, g.need) {
			close(g.open)
		}
		mu.Unlock()
		select {
		case <-g.open:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-guard():
			mu.Lock()
			defer mu.Unlock()
			return fmt.Errorf("%s waited for %v, only %v were issued concurrently", op, g.need, g.got)
		}
	}
}

func TestPagination(t *testing.T) {
	var hosts []host
	for n := 1; n <= 250; n++ {
		hosts = append(hosts, host{n: n, agent: n%10 != 0, name: fmt.Sprintf("node-%03d", n)})
	}
	w := testWorld()
	w.clusters["web--staging"] = hosts
	w.pageSize = 7

	t.Run("pattern matches the last instance", func(t *testing.T) {
		got, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", Instance: "node-249"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Instance.ID != ec2ID(249) || got.Instance.Name != "node-249" {
			t.Errorf("instance = %+v, want node-249", got.Instance)
		}
		if n, want := w.count("ListContainerInstances"), 36; n != want { // ceil(250/7)
			t.Errorf("%d ListContainerInstances pages, want %d", n, want)
		}
		if n, want := w.count("DescribeContainerInstances"), 3; n != want {
			t.Errorf("%d DescribeContainerInstances batches, want %d", n, want)
		}
	})
	t.Run("index counts usable instances across pages", func(t *testing.T) {
		// 225 usable (every tenth has no agent): index 224 is node-249.
		got, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", Instance: "224"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Instance.ID != ec2ID(249) {
			t.Errorf("instance = %s, want %s", got.Instance.ID, ec2ID(249))
		}
	})
	t.Run("long lists are elided", func(t *testing.T) {
		_, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", Instance: "nope"})
		want := "tried: node-001 (" + ec2ID(1) + "), "
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), ", … (205 more)") {
			t.Errorf("error = %v, want the first 20 of 225 and a count", err)
		}
	})
	t.Run("cluster list", func(t *testing.T) {
		w.pageSize = 1
		_, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-web--staging", Cluster: "nope"})
		if err == nil || !strings.Contains(err.Error(), "clusters: other, prod, web--staging") {
			t.Errorf("error = %v, want every page of clusters", err)
		}
	})
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name     string
		req      Request
		mutate   func(*world)
		wantMsg  string
		wantHint string // substring
	}{
		{
			name:     "task definition not found",
			req:      Request{Task: "ecscompose-nope"},
			wantMsg:  `task definition "ecscompose-nope" not found in region us-east-1`,
			wantHint: "check --task",
		},
		{
			name:     "guessed cluster not found",
			req:      Request{Task: "ecscompose-web--staging"},
			mutate:   func(w *world) { delete(w.clusters, "web--staging") },
			wantMsg:  `cluster "web--staging" (guessed from task "ecscompose-web--staging") not found in region us-east-1; clusters: other, prod`,
			wantHint: "pass --cluster NAME",
		},
		{
			name:     "given cluster not found",
			req:      Request{Task: "ecscompose-web--staging", Cluster: "stage"},
			wantMsg:  `cluster "stage" not found in region us-east-1; clusters: other, prod, web--staging`,
			wantHint: "check --cluster",
		},
		{
			name:     "no clusters at all",
			req:      Request{Task: "ecscompose-web--staging"},
			mutate:   func(w *world) { w.clusters = map[string][]host{} },
			wantMsg:  `cluster "web--staging" (guessed from task "ecscompose-web--staging") not found in region us-east-1; there are no clusters in this region`,
			wantHint: "--cluster",
		},
		{
			name: "no usable instances",
			req:  Request{Task: "ecscompose-web--staging"},
			mutate: func(w *world) {
				w.clusters["web--staging"] = []host{{n: 1}, {n: 2, status: "DRAINING", agent: true}, {n: 3}}
			},
			wantMsg:  `cluster "web--staging" (guessed from task "ecscompose-web--staging") has no ACTIVE container instances with a connected agent (2 registered: ` + ec2ID(1) + ` (ECS agent not connected), ` + ec2ID(3) + ` (ECS agent not connected))`,
			wantHint: "ECS agent",
		},
		{
			name:     "empty cluster",
			req:      Request{Task: "ecscompose-web--staging", Cluster: "other", Instance: "web"},
			wantMsg:  `cluster "other" has no ACTIVE container instances in region us-east-1`,
			wantHint: "--launch-type FARGATE",
		},
		{
			name:     "container not found",
			req:      Request{Task: "ecscompose-web--staging", Container: "db"},
			wantMsg:  `container "db" not found in task definition ` + tdARN + `; containers: 0=web, 1=worker`,
			wantHint: "--container",
		},
		{
			name:    "container index out of range",
			req:     Request{Task: "ecscompose-web--staging", Container: "2"},
			wantMsg: `container "2" not found in task definition ` + tdARN + `; containers: 0=web, 1=worker`,
		},
		{
			name: "missing image",
			req:  Request{Task: "ecscompose-web--staging"},
			mutate: func(w *world) {
				td := testTD()
				td.ContainerDefinitions[0].Image = nil
				w.tds["ecscompose-web--staging"] = td
			},
			wantMsg:  `container "web" of task definition ` + tdARN + ` has no image`,
			wantHint: "--image",
		},
		{
			name:     "service without cluster",
			req:      Request{Service: "web"},
			wantMsg:  "--service web needs the cluster the service runs in",
			wantHint: "--cluster",
		},
		{
			name:     "nothing to run",
			req:      Request{},
			wantMsg:  "no task definition given",
			wantHint: "--task",
		},
		{
			name: "service not found",
			req:  Request{Service: "api", Cluster: "web--staging"},
			mutate: func(w *world) {
				w.services = map[string][]ecstypes.Service{"web--staging": {
					{ServiceName: ptr("web"), TaskDefinition: ptr(tdARN)},
					{ServiceName: ptr("cron"), TaskDefinition: ptr(tdARN)},
				}}
			},
			wantMsg:  `service "api" not found in cluster "web--staging" in region us-east-1; services: cron, web`,
			wantHint: "--service",
		},
		{
			name: "inactive service",
			req:  Request{Service: "web", Cluster: "web--staging"},
			mutate: func(w *world) {
				w.services = map[string][]ecstypes.Service{"web--staging": {{ServiceName: ptr("web"), Status: ptr("INACTIVE"), TaskDefinition: ptr(tdARN)}}}
			},
			wantMsg: `service "web" not found in cluster "web--staging" in region us-east-1; services: web`,
		},
		{
			name: "expired credentials",
			req:  Request{Task: "ecscompose-web--staging"},
			mutate: func(w *world) {
				w.before = failAll(apiErr("ExpiredTokenException", "The security token included in the request is expired"))
			},
			wantMsg:  "AWS credentials rejected by ecs:DescribeTaskDefinition in region us-east-1: ExpiredTokenException: The security token included in the request is expired",
			wantHint: "aws sso login",
		},
		{
			name: "access denied",
			req:  Request{Task: "ecscompose-web--staging"},
			mutate: func(w *world) {
				w.before = failOp("ListContainerInstances", apiErr("AccessDeniedException", "User: arn:x is not authorized"))
			},
			wantMsg:  "AWS credentials not allowed to call ecs:ListContainerInstances in region us-east-1: User: arn:x is not authorized",
			wantHint: "IAM permissions",
		},
		{
			name: "ec2 auth failure",
			req:  Request{Task: "ecscompose-web--staging"},
			mutate: func(w *world) {
				w.before = failOp("DescribeInstances", apiErr("AuthFailure", "AWS was not able to validate the provided access credentials"))
			},
			wantMsg:  "AWS credentials rejected by ec2:DescribeInstances in region us-east-1: AuthFailure: AWS was not able to validate the provided access credentials",
			wantHint: "--profile",
		},
		{
			name: "throttled",
			req:  Request{Task: "ecscompose-web--staging"},
			mutate: func(w *world) {
				w.before = failOp("DescribeTaskDefinition", apiErr("ThrottlingException", "Rate exceeded"))
			},
			wantMsg:  `describe task definition "ecscompose-web--staging" in region us-east-1: AWS throttled the requests and retries were exhausted`,
			wantHint: "try again",
		},
		{
			name:    "other API error",
			req:     Request{Task: "ecscompose-web--staging"},
			mutate:  func(w *world) { w.before = failOp("DescribeContainerInstances", apiErr("ServerException", "boom")) },
			wantMsg: `describe container instances of cluster "web--staging" (guessed from task "ecscompose-web--staging") in region us-east-1: ServerException: boom`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld()
			if tt.mutate != nil {
				tt.mutate(w)
			}
			got, err := w.resolver(func(int) int { return 0 }).Resolve(context.Background(), tt.req)
			if err == nil {
				t.Fatalf("Resolve = %+v, want an error", got)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if e.Msg != tt.wantMsg {
				t.Errorf("message:\n got %s\nwant %s", e.Msg, tt.wantMsg)
			}
			if !strings.Contains(e.Hint, tt.wantHint) {
				t.Errorf("hint = %q, want it to contain %q", e.Hint, tt.wantHint)
			}
		})
	}
}

func failAll(err error) func(context.Context, string) error {
	return func(context.Context, string) error { return err }
}

func failOp(op string, err error) func(context.Context, string) error {
	return func(_ context.Context, o string) error {
		if o == op {
			return err
		}
		return nil
	}
}

func TestTaskDefinitionErrorWinsOverCluster(t *testing.T) {
	w := testWorld()
	w.clusters = map[string][]host{"a": nil}
	_, err := w.resolver(nil).Resolve(context.Background(), Request{Task: "ecscompose-nope:3"})
	if err == nil || err.Error() != `task definition "ecscompose-nope:3" not found in region us-east-1` {
		t.Errorf("error = %v, want the task definition to be named", err)
	}
}

func TestResolveService(t *testing.T) {
	const old = "arn:aws:ecs:us-east-1:123456789012:task-definition/ecscompose-web--staging:6"
	tests := []struct {
		name string
		svc  ecstypes.Service
		want string
	}{
		{
			name: "primary deployment",
			svc: ecstypes.Service{ServiceName: ptr("web"), Status: ptr("ACTIVE"), TaskDefinition: ptr(old), Deployments: []ecstypes.Deployment{
				{Status: ptr("ACTIVE"), TaskDefinition: ptr(old)},
				{Status: ptr("PRIMARY"), TaskDefinition: ptr(tdARN)},
			}},
			want: tdARN,
		},
		{
			name: "service task definition without deployments",
			svc:  ecstypes.Service{ServiceName: ptr("web"), Status: ptr("ACTIVE"), TaskDefinition: ptr(old)},
			want: old,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld()
			w.services = map[string][]ecstypes.Service{"web--staging": {tt.svc}}
			td := testTD()
			td.TaskDefinitionArn = ptr(old)
			w.tds[old] = td
			// The cluster is guessed from --task; the task definition comes from the service.
			got, err := w.resolver(nil).Resolve(context.Background(), Request{Service: "web", Task: "ecscompose-web--staging:5", Instance: "0"})
			if err != nil {
				t.Fatal(err)
			}
			if got.TaskDefinition != tt.want {
				t.Errorf("task definition = %s, want %s", got.TaskDefinition, tt.want)
			}
		})
	}
}

func TestServiceNetwork(t *testing.T) {
	vpc := func(subnet string, public ecstypes.AssignPublicIp) *ecstypes.NetworkConfiguration {
		return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{subnet, "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIp: public,
		}}
	}
	tests := []struct {
		name    string
		svc     ecstypes.Service
		want    *Network
		wantErr string
	}{
		{
			name: "primary deployment wins",
			svc: ecstypes.Service{ServiceName: ptr("web"), NetworkConfiguration: vpc("subnet-old", ""), Deployments: []ecstypes.Deployment{
				{Status: ptr("PRIMARY"), NetworkConfiguration: vpc("subnet-1", ecstypes.AssignPublicIpEnabled)},
			}},
			want: &Network{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: true},
		},
		{
			name: "service configuration",
			svc:  ecstypes.Service{ServiceName: ptr("web"), NetworkConfiguration: vpc("subnet-1", ecstypes.AssignPublicIpDisabled)},
			want: &Network{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}},
		},
		{
			name:    "bridge service",
			svc:     ecstypes.Service{ServiceName: ptr("web")},
			wantErr: `service "web" of cluster "web--staging" has no awsvpc network configuration`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld()
			w.services = map[string][]ecstypes.Service{"web--staging": {tt.svc}}
			got, err := w.resolver(nil).ServiceNetwork(context.Background(), Request{Service: "web", Cluster: "web--staging"})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ServiceNetwork (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTaskSpecMakesNoInstanceCalls(t *testing.T) {
	w := testWorld()
	got, err := w.resolver(nil).TaskSpec(context.Background(), Request{Task: "ecscompose-web--staging", Container: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Container.Name != "worker" || got.Cluster != "web--staging" || got.TaskDefinition != tdARN {
		t.Errorf("TaskSpec = %+v", got)
	}
	if diff := cmp.Diff([]string{"DescribeTaskDefinition"}, w.ops()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
