package ecs

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// fakeECS implements ECSAPI with function fields; a nil field fails the call.
type fakeECS struct {
	describeTaskDefinition     func(context.Context, *awsecs.DescribeTaskDefinitionInput) (*awsecs.DescribeTaskDefinitionOutput, error)
	listContainerInstances     func(context.Context, *awsecs.ListContainerInstancesInput) (*awsecs.ListContainerInstancesOutput, error)
	describeContainerInstances func(context.Context, *awsecs.DescribeContainerInstancesInput) (*awsecs.DescribeContainerInstancesOutput, error)
	listClusters               func(context.Context, *awsecs.ListClustersInput) (*awsecs.ListClustersOutput, error)
	describeServices           func(context.Context, *awsecs.DescribeServicesInput) (*awsecs.DescribeServicesOutput, error)
	listServices               func(context.Context, *awsecs.ListServicesInput) (*awsecs.ListServicesOutput, error)
}

var errUnexpected = fmt.Errorf("unexpected call")

func (f *fakeECS) DescribeTaskDefinition(ctx context.Context, in *awsecs.DescribeTaskDefinitionInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error) {
	if f.describeTaskDefinition == nil {
		return nil, fmt.Errorf("DescribeTaskDefinition: %w", errUnexpected)
	}
	return f.describeTaskDefinition(ctx, in)
}

func (f *fakeECS) ListContainerInstances(ctx context.Context, in *awsecs.ListContainerInstancesInput, _ ...func(*awsecs.Options)) (*awsecs.ListContainerInstancesOutput, error) {
	if f.listContainerInstances == nil {
		return nil, fmt.Errorf("ListContainerInstances: %w", errUnexpected)
	}
	return f.listContainerInstances(ctx, in)
}

func (f *fakeECS) DescribeContainerInstances(ctx context.Context, in *awsecs.DescribeContainerInstancesInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeContainerInstancesOutput, error) {
	if f.describeContainerInstances == nil {
		return nil, fmt.Errorf("DescribeContainerInstances: %w", errUnexpected)
	}
	return f.describeContainerInstances(ctx, in)
}

func (f *fakeECS) ListClusters(ctx context.Context, in *awsecs.ListClustersInput, _ ...func(*awsecs.Options)) (*awsecs.ListClustersOutput, error) {
	if f.listClusters == nil {
		return nil, fmt.Errorf("ListClusters: %w", errUnexpected)
	}
	return f.listClusters(ctx, in)
}

func (f *fakeECS) DescribeServices(ctx context.Context, in *awsecs.DescribeServicesInput, _ ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error) {
	if f.describeServices == nil {
		return nil, fmt.Errorf("DescribeServices: %w", errUnexpected)
	}
	return f.describeServices(ctx, in)
}

func (f *fakeECS) ListServices(ctx context.Context, in *awsecs.ListServicesInput, _ ...func(*awsecs.Options)) (*awsecs.ListServicesOutput, error) {
	if f.listServices == nil {
		return nil, fmt.Errorf("ListServices: %w", errUnexpected)
	}
	return f.listServices(ctx, in)
}

// fakeEC2 implements EC2API with a function field.
type fakeEC2 struct {
	describeInstances func(context.Context, *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error)
}

func (f *fakeEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if f.describeInstances == nil {
		return nil, fmt.Errorf("DescribeInstances: %w", errUnexpected)
	}
	return f.describeInstances(ctx, in)
}

// host is one container instance of the fake world and its EC2 instance.
type host struct {
	n      int    // makes the ids
	status string // "" = ACTIVE
	agent  bool
	name   string // Name tag; "" = none
	noEC2  bool   // DescribeInstances does not know it
}

func ec2ID(n int) string { return fmt.Sprintf("i-%017x", n) }
func ciID(n int) string  { return fmt.Sprintf("%032x", n) }
func ciARN(n int) string {
	return "arn:aws:ecs:us-east-1:123456789012:container-instance/web--staging/" + ciID(n)
}
func privIP(n int) string { return fmt.Sprintf("10.0.%d.%d", n/256, n%256) }

func (h host) stat() string {
	if h.status == "" {
		return "ACTIVE"
	}
	return h.status
}

// call is one recorded API call: its operation and how many sequential
// rounds deep it is (1 + the deepest call that had finished when it started).
type call struct {
	op    string
	depth int
}

// world is a fake AWS account: clusters of hosts, task definitions and
// services, served page by page, recording every call.
type world struct {
	clusters map[string][]host
	tds      map[string]ecstypes.TaskDefinition // by every name that resolves it
	services map[string][]ecstypes.Service      // by cluster
	pageSize int                                // 0 = everything in one page

	// before, if set, runs at the start of every call (after recording it).
	before func(ctx context.Context, op string) error

	mu      sync.Mutex
	doneMax int
	calls   []call
}

func (w *world) track(ctx context.Context, op string) (func(), error) {
	w.mu.Lock()
	d := w.doneMax + 1
	w.calls = append(w.calls, call{op, d})
	w.mu.Unlock()
	end := func() {
		w.mu.Lock()
		w.doneMax = max(w.doneMax, d)
		w.mu.Unlock()
	}
	if w.before != nil {
		if err := w.before(ctx, op); err != nil {
			end()
			return nil, err
		}
	}
	return end, nil
}

func (w *world) maxDepth() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := 0
	for _, c := range w.calls {
		m = max(m, c.depth)
	}
	return m
}

func (w *world) ops() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.calls {
		out = append(out, c.op)
	}
	return out
}

func (w *world) count(op string) int {
	n := 0
	for _, o := range w.ops() {
		if o == op {
			n++
		}
	}
	return n
}

func apiErr(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// page returns items[start:start+pageSize] and the next token.
func page[T any](items []T, token *string, size int) ([]T, *string) {
	start := 0
	if token != nil {
		start, _ = strconv.Atoi(strings.TrimPrefix(*token, "tok-"))
	}
	if size == 0 || start+size >= len(items) {
		return items[start:], nil
	}
	next := fmt.Sprintf("tok-%d", start+size)
	return items[start : start+size], &next
}

var filterRe = regexp.MustCompile(`^ec2InstanceId in \['(i-[0-9a-f]+)'\]$`)

func (w *world) resolver(intn func(int) int) *Resolver {
	return &Resolver{ECS: w.ecs(), EC2: w.ec2(), Region: "us-east-1", Intn: intn}
}

func (w *world) ecs() *fakeECS {
	return &fakeECS{
		describeTaskDefinition: func(ctx context.Context, in *awsecs.DescribeTaskDefinitionInput) (*awsecs.DescribeTaskDefinitionOutput, error) {
			end, err := w.track(ctx, "DescribeTaskDefinition")
			if err != nil {
				return nil, err
			}
			defer end()
			td, ok := w.tds[*in.TaskDefinition]
			if !ok {
				return nil, &ecstypes.ClientException{Message: ptr("Unable to describe task definition.")}
			}
			return &awsecs.DescribeTaskDefinitionOutput{TaskDefinition: &td}, nil
		},
		listContainerInstances: func(ctx context.Context, in *awsecs.ListContainerInstancesInput) (*awsecs.ListContainerInstancesOutput, error) {
			end, err := w.track(ctx, "ListContainerInstances")
			if err != nil {
				return nil, err
			}
			defer end()
			hosts, ok := w.clusters[*in.Cluster]
			if !ok {
				return nil, &ecstypes.ClusterNotFoundException{Message: ptr("Cluster not found.")}
			}
			var want string
			if in.Filter != nil {
				m := filterRe.FindStringSubmatch(*in.Filter)
				if m == nil {
					return nil, apiErr("InvalidParameterException", "bad filter "+*in.Filter)
				}
				want = m[1]
			}
			var arns []string
			for _, h := range hosts {
				switch {
				case in.Status != "" && string(in.Status) != h.stat():
				case in.Status == "" && h.stat() == "INACTIVE":
				case want != "" && ec2ID(h.n) != want:
				default:
					arns = append(arns, ciARN(h.n))
				}
			}
			items, next := page(arns, in.NextToken, w.pageSize)
			return &awsecs.ListContainerInstancesOutput{ContainerInstanceArns: items, NextToken: next}, nil
		},
		describeContainerInstances: func(ctx context.Context, in *awsecs.DescribeContainerInstancesInput) (*awsecs.DescribeContainerInstancesOutput, error) {
			end, err := w.track(ctx, "DescribeContainerInstances")
			if err != nil {
				return nil, err
			}
			defer end()
			if len(in.ContainerInstances) > 100 {
				return nil, apiErr("InvalidParameterException", "too many container instances")
			}
			if len(slices.Compact(slices.Sorted(slices.Values(in.ContainerInstances)))) != len(in.ContainerInstances) {
				return nil, apiErr("InvalidParameterException", "duplicate container instances")
			}
			hosts, ok := w.clusters[*in.Cluster]
			if !ok {
				return nil, &ecstypes.ClusterNotFoundException{Message: ptr("Cluster not found.")}
			}
			out := &awsecs.DescribeContainerInstancesOutput{}
			for _, id := range in.ContainerInstances {
				i := slices.IndexFunc(hosts, func(h host) bool { return ciARN(h.n) == id || ciID(h.n) == id })
				if i < 0 {
					out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(id), Reason: ptr("MISSING")})
					continue
				}
				h := hosts[i]
				out.ContainerInstances = append(out.ContainerInstances, ecstypes.ContainerInstance{
					ContainerInstanceArn: ptr(ciARN(h.n)),
					Ec2InstanceId:        ptr(ec2ID(h.n)),
					Status:               ptr(h.stat()),
					AgentConnected:       h.agent,
				})
			}
			// AWS does not promise any order.
			slices.Reverse(out.ContainerInstances)
			return out, nil
		},
		listClusters: func(ctx context.Context, in *awsecs.ListClustersInput) (*awsecs.ListClustersOutput, error) {
			end, err := w.track(ctx, "ListClusters")
			if err != nil {
				return nil, err
			}
			defer end()
			var arns []string
			for name := range w.clusters {
				arns = append(arns, "arn:aws:ecs:us-east-1:123456789012:cluster/"+name)
			}
			slices.Sort(arns)
			items, next := page(arns, in.NextToken, w.pageSize)
			return &awsecs.ListClustersOutput{ClusterArns: items, NextToken: next}, nil
		},
		describeServices: func(ctx context.Context, in *awsecs.DescribeServicesInput) (*awsecs.DescribeServicesOutput, error) {
			end, err := w.track(ctx, "DescribeServices")
			if err != nil {
				return nil, err
			}
			defer end()
			if _, ok := w.clusters[*in.Cluster]; !ok {
				return nil, &ecstypes.ClusterNotFoundException{Message: ptr("Cluster not found.")}
			}
			out := &awsecs.DescribeServicesOutput{}
			for _, name := range in.Services {
				i := slices.IndexFunc(w.services[*in.Cluster], func(s ecstypes.Service) bool { return *s.ServiceName == name })
				if i < 0 {
					out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(name), Reason: ptr("MISSING")})
					continue
				}
				out.Services = append(out.Services, w.services[*in.Cluster][i])
			}
			return out, nil
		},
		listServices: func(ctx context.Context, in *awsecs.ListServicesInput) (*awsecs.ListServicesOutput, error) {
			end, err := w.track(ctx, "ListServices")
			if err != nil {
				return nil, err
			}
			defer end()
			var arns []string
			for _, s := range w.services[*in.Cluster] {
				arns = append(arns, "arn:aws:ecs:us-east-1:123456789012:service/"+*in.Cluster+"/"+*s.ServiceName)
			}
			items, next := page(arns, in.NextToken, w.pageSize)
			return &awsecs.ListServicesOutput{ServiceArns: items, NextToken: next}, nil
		},
	}
}

func (w *world) ec2() *fakeEC2 {
	return &fakeEC2{
		describeInstances: func(ctx context.Context, in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
			end, err := w.track(ctx, "DescribeInstances")
			if err != nil {
				return nil, err
			}
			defer end()
			if in.MaxResults != nil && len(in.InstanceIds) > 0 {
				return nil, apiErr("InvalidParameterCombination", "MaxResults with InstanceIds")
			}
			byID := map[string]*host{}
			for _, hosts := range w.clusters {
				for i := range hosts {
					if !hosts[i].noEC2 {
						byID[ec2ID(hosts[i].n)] = &hosts[i]
					}
				}
			}
			var res []ec2types.Reservation
			for _, id := range in.InstanceIds {
				found := byID[id]
				if found == nil {
					return nil, apiErr("InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", id))
				}
				inst := ec2types.Instance{
					InstanceId:       ptr(id),
					PrivateIpAddress: ptr(privIP(found.n)),
					PrivateDnsName:   ptr(fmt.Sprintf("ip-%d.ec2.internal", found.n)),
				}
				if found.n%2 == 0 {
					inst.PublicIpAddress = ptr(fmt.Sprintf("203.0.113.%d", found.n))
					inst.PublicDnsName = ptr(fmt.Sprintf("ec2-%d.compute-1.amazonaws.com", found.n))
				}
				if found.name != "" {
					inst.Tags = []ec2types.Tag{{Key: ptr("Team"), Value: ptr("x")}, {Key: ptr("Name"), Value: ptr(found.name)}}
				}
				res = append(res, ec2types.Reservation{Instances: []ec2types.Instance{inst}})
			}
			items, next := page(res, in.NextToken, w.pageSize)
			return &ec2.DescribeInstancesOutput{Reservations: items, NextToken: next}, nil
		},
	}
}

func ptr[T any](v T) *T { return &v }
