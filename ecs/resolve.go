package ecs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ssh-ecs-run-task/ssh-ecs-run-task/dockercmd"
)

// Request says what to resolve; the fields are the command-line options of
// the same names (SPEC §2.1, §2.2). Empty fields take their defaults.
type Request struct {
	Task      string // family, family:revision or ARN; with Service, only used to guess the cluster
	Service   string // take the task definition from this service's PRIMARY deployment
	Cluster   string // "" = guessed from Task (see GuessCluster)
	Container string // name or 0-based index; "" = 0
	Instance  string // "" or "-1" random, N index, i-… / container instance id or ARN, else a regexp
	Address   string // one of the Address… constants; "" = name with Domain, private-ip without
	Domain    string // appended to the Name tag for the address kind "name"
	// WithSecrets says the caller resolves the container's secrets and
	// environment files (ResolveSecrets), so Resolve does not warn that
	// they are not copied.
	WithSecrets bool
}

// Instance is a container instance of the cluster and the EC2 instance
// behind it. Fields EC2 did not report are empty.
type Instance struct {
	ID                   string // EC2 instance id
	ContainerInstanceARN string
	Name                 string // value of the Name tag
	PrivateIP, PublicIP  string
	PrivateDNS           string
	PublicDNS            string
}

// Target is everything EC2 mode needs to run a container: where, and what.
type Target struct {
	Cluster        string
	TaskDefinition string // ARN
	Container      dockercmd.Spec
	Instance       Instance
	Host           string   // what to dial, per Request.Address and Request.Domain
	Warnings       []string // what could not be copied from the task definition
	// Secrets and EnvironmentFiles (S3 object ARNs) are the container's
	// unresolved references; Container.Env does not include them until
	// ResolveSecrets is called.
	Secrets          []SecretRef
	EnvironmentFiles []string
}

// Task is a resolved container of a task definition, without an instance
// (what Fargate mode needs).
type Task struct {
	Cluster          string
	TaskDefinition   string // ARN
	Container        dockercmd.Spec
	Warnings         []string
	Secrets          []SecretRef // as in Target
	EnvironmentFiles []string
}

// Resolver resolves requests against one region. ECS and EC2 are required;
// Region is used in messages; Intn picks the random instance (nil means
// math/rand/v2.IntN).
type Resolver struct {
	ECS    ECSAPI
	EC2    EC2API
	Region string
	Intn   func(n int) int
}

// batchSize is the most ids DescribeContainerInstances accepts at once; it is
// used for DescribeInstances too.
const batchSize = 100

// Resolve finds the task definition's container and a usable container
// instance for EC2 mode. It makes at most three sequential rounds of calls:
// DescribeTaskDefinition (after DescribeServices with --service) runs
// alongside ListContainerInstances → DescribeContainerInstances, and
// DescribeInstances comes last. Errors are *Error values worded for users,
// except for a cancelled ctx.
func (r *Resolver) Resolve(ctx context.Context, req Request) (*Target, error) {
	sel, err := parseSelector(req.Instance)
	if err != nil {
		return nil, err
	}
	kind, err := addressKind(req.Address, req.Domain)
	if err != nil {
		return nil, err
	}
	cl, err := clusterOf(req)
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type picked struct {
		in  Instance
		err error
	}
	instc := make(chan picked, 1)
	go func() {
		in, err := r.pickInstance(ctx, cl, sel)
		instc <- picked{in, err}
	}()

	task, err := r.task(ctx, req, cl)
	if err != nil {
		// A missing task definition explains a missing guessed cluster too,
		// so this error wins; stop the instance lookup.
		cancel()
		<-instc
		return nil, err
	}
	p := <-instc
	if p.err != nil {
		return nil, p.err
	}
	host, err := HostFor(p.in, kind, req.Domain)
	if err != nil {
		return nil, err
	}
	warnings := task.Warnings
	if w := secretsWarning(task.Container.Name, task.Secrets, task.EnvironmentFiles); w != "" && !req.WithSecrets {
		warnings = append(warnings, w)
	}
	return &Target{
		Cluster:          cl.name,
		TaskDefinition:   task.TaskDefinition,
		Container:        task.Container,
		Instance:         p.in,
		Host:             host,
		Warnings:         warnings,
		Secrets:          task.Secrets,
		EnvironmentFiles: task.EnvironmentFiles,
	}, nil
}

// TaskSpec resolves only the task definition's container (and, with
// --service, the service's task definition): no instance is looked up.
func (r *Resolver) TaskSpec(ctx context.Context, req Request) (*Task, error) {
	cl, err := clusterOf(req)
	if err != nil {
		return nil, err
	}
	return r.task(ctx, req, cl)
}

// cluster is the cluster in use and where its name came from.
type cluster struct {
	name    string
	guessed bool
	task    string // the task the name was guessed from
}

func (c cluster) String() string {
	if c.guessed {
		return fmt.Sprintf("%q (guessed from task %q)", c.name, c.task)
	}
	return fmt.Sprintf("%q", c.name)
}

func clusterOf(req Request) (cluster, error) {
	switch {
	case req.Cluster != "":
		return cluster{name: req.Cluster}, nil
	case req.Task == "" && req.Service != "":
		return cluster{}, &Error{
			Msg:  fmt.Sprintf("--service %s needs the cluster the service runs in", req.Service),
			Hint: "pass --cluster NAME",
		}
	case req.Task == "":
		return cluster{}, &Error{Msg: "no task definition given", Hint: "pass --task NAME or --service NAME"}
	}
	name := GuessCluster(req.Task)
	if name == "" {
		return cluster{}, &Error{
			Msg:  fmt.Sprintf("cannot guess the cluster from task %q", req.Task),
			Hint: "pass --cluster NAME",
		}
	}
	return cluster{name: name, guessed: true, task: req.Task}, nil
}

// task describes the task definition (the service's, with --service) and
// translates the chosen container.
func (r *Resolver) task(ctx context.Context, req Request, cl cluster) (*Task, error) {
	name := req.Task
	if req.Service != "" {
		var err error
		if name, err = r.serviceTaskDefinition(ctx, cl, req.Service); err != nil {
			return nil, err
		}
	}
	out, err := r.ECS.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: &name})
	if err != nil {
		if isTaskDefinitionNotFound(err) {
			return nil, &Error{
				Msg:  fmt.Sprintf("task definition %q not found in region %s", name, r.Region),
				Hint: "check --task (family, family:revision or ARN), --region and --profile; `aws ecs list-task-definition-families` lists the families",
				Err:  err,
			}
		}
		return nil, r.translate("ecs:DescribeTaskDefinition", fmt.Sprintf("describe task definition %q", name), err)
	}
	td := out.TaskDefinition
	if td == nil {
		return nil, &Error{Msg: fmt.Sprintf("describe task definition %q in region %s: empty response", name, r.Region)}
	}
	c, err := pickContainer(td, req.Container)
	if err != nil {
		return nil, err
	}
	spec, warnings, err := containerSpec(td, c)
	if err != nil {
		return nil, err
	}
	arn := str(td.TaskDefinitionArn)
	if arn == "" {
		arn = name
	}
	refs, files := containerSecrets(c)
	return &Task{Cluster: cl.name, TaskDefinition: arn, Container: spec, Warnings: warnings, Secrets: refs, EnvironmentFiles: files}, nil
}

// containerInstance is what DescribeContainerInstances says about one
// instance.
type containerInstance struct {
	arn, ec2ID, status, reason string
	agentConnected             bool
	described                  bool
}

func (ci containerInstance) usable() bool {
	return ci.described && ci.status == "ACTIVE" && ci.agentConnected && ci.ec2ID != ""
}

// why says why ci is not usable.
func (ci containerInstance) why() string {
	switch {
	case !ci.described:
		return "not found in the cluster"
	case ci.status != "ACTIVE":
		s := "status " + ci.status
		if ci.reason != "" {
			s += " (" + ci.reason + ")"
		}
		return s
	case !ci.agentConnected:
		return "ECS agent not connected"
	case ci.ec2ID == "":
		return "no EC2 instance id (not an EC2 container instance)"
	}
	return "usable"
}

func (ci containerInstance) label() string {
	if ci.ec2ID != "" {
		return ci.ec2ID
	}
	return ci.arn[strings.LastIndexByte(ci.arn, '/')+1:]
}

// pickInstance lists, describes and selects a container instance, then
// describes its EC2 instance: three sequential rounds.
func (r *Resolver) pickInstance(ctx context.Context, cl cluster, sel selector) (Instance, error) {
	// Round 1: the ACTIVE instances, and for an EC2 id the instance itself
	// whatever its status, so that the error can say why it is not usable.
	var (
		listed, extra []string
		listErr, xErr error
		wg            sync.WaitGroup
	)
	wg.Go(func() {
		listed, listErr = r.listContainerInstances(ctx, cl.name, ecstypes.ContainerInstanceStatusActive, "")
	})
	if sel.kind == selEC2ID {
		wg.Go(func() {
			extra, xErr = r.listContainerInstances(ctx, cl.name, "", fmt.Sprintf("ec2InstanceId in ['%s']", sel.raw))
		})
	}
	wg.Wait()
	if listErr != nil {
		return Instance{}, r.listError(ctx, cl, listErr)
	}
	if xErr != nil {
		extra = nil // only used to explain an error; the main list decides
	}
	extra = slices.DeleteFunc(extra, func(a string) bool { return slices.Contains(listed, a) })
	if sel.kind == selCIID && !slices.ContainsFunc(listed, sel.matchesCI) {
		extra = append(extra, sel.raw)
	}

	// Round 2.
	all := append(slices.Clone(listed), extra...)
	described, err := r.describeContainerInstances(ctx, cl, all)
	if err != nil {
		return Instance{}, err
	}
	cis := make([]containerInstance, len(listed))
	var usable []containerInstance
	for i, arn := range listed {
		cis[i] = described[arn]
		cis[i].arn = arn
		if cis[i].usable() {
			usable = append(usable, cis[i])
		}
	}

	var chosen containerInstance
	switch sel.kind {
	case selRandom, selIndex, selPattern:
		if len(usable) == 0 {
			return Instance{}, r.noUsable(cl, cis)
		}
	}
	switch sel.kind {
	case selRandom:
		intn := r.Intn
		if intn == nil {
			intn = rand.IntN
		}
		chosen = usable[intn(len(usable))]
	case selIndex:
		if sel.index >= len(usable) {
			return Instance{}, &Error{
				Msg:  fmt.Sprintf("--instance %d: cluster %s has %d usable container instances (indexes 0 to %d)", sel.index, cl, len(usable), len(usable)-1),
				Hint: "pass an index in range, an instance id, or -1 for a random one",
			}
		}
		chosen = usable[sel.index]
	case selEC2ID, selCIID:
		if chosen, err = r.exact(cl, sel, cis, extra, described); err != nil {
			return Instance{}, err
		}
	case selPattern:
		return r.matchPattern(ctx, cl, sel, usable)
	}

	// Round 3.
	ins, err := r.describeInstances(ctx, cl, []string{chosen.ec2ID})
	if err != nil {
		return Instance{}, err
	}
	in, ok := ins[chosen.ec2ID]
	if !ok {
		return Instance{}, &Error{Msg: fmt.Sprintf("EC2 instance %s (container instance %s of cluster %s) not found in region %s", chosen.ec2ID, chosen.arn, cl, r.Region)}
	}
	in.ContainerInstanceARN = chosen.arn
	return in, nil
}

// exact finds the container instance named by an id or ARN selector.
func (r *Resolver) exact(cl cluster, sel selector, cis []containerInstance, extra []string, described map[string]containerInstance) (containerInstance, error) {
	match := func(ci containerInstance) bool {
		if sel.kind == selEC2ID {
			return ci.ec2ID == sel.raw
		}
		return sel.matchesCI(ci.arn) || ci.arn == sel.raw
	}
	candidates := slices.Clone(cis)
	for _, arn := range extra {
		ci := described[arn]
		if !ci.described {
			ci.arn = arn
		}
		candidates = append(candidates, ci)
	}
	for _, ci := range candidates {
		if match(ci) && ci.described {
			if !ci.usable() {
				return ci, &Error{
					Msg:  fmt.Sprintf("container instance %s of cluster %s cannot run tasks: %s", sel.raw, cl, ci.why()),
					Hint: "pick another instance with --instance, or leave it out for a random usable one",
				}
			}
			return ci, nil
		}
	}
	return containerInstance{}, &Error{
		Msg:  fmt.Sprintf("%s is not an ACTIVE container instance of cluster %s in region %s; usable instances: %s", sel.raw, cl, r.Region, labels(cis, true)),
		Hint: "check --instance and --cluster",
	}
}

// matchPattern describes the EC2 instances of all usable container
// instances and returns the first, in list order, whose Name tag or instance
// id matches.
func (r *Resolver) matchPattern(ctx context.Context, cl cluster, sel selector, usable []containerInstance) (Instance, error) {
	ids := make([]string, len(usable))
	for i, ci := range usable {
		ids[i] = ci.ec2ID
	}
	ins, err := r.describeInstances(ctx, cl, ids)
	if err != nil {
		return Instance{}, err
	}
	var tried []string
	for _, ci := range usable {
		in, ok := ins[ci.ec2ID]
		if !ok {
			in = Instance{ID: ci.ec2ID}
		}
		if (in.Name != "" && sel.re.MatchString(in.Name)) || sel.re.MatchString(in.ID) {
			if !ok {
				return Instance{}, &Error{Msg: fmt.Sprintf("EC2 instance %s (container instance %s of cluster %s) not found in region %s", ci.ec2ID, ci.arn, cl, r.Region)}
			}
			in.ContainerInstanceARN = ci.arn
			return in, nil
		}
		if in.Name != "" {
			tried = append(tried, in.Name+" ("+in.ID+")")
		} else {
			tried = append(tried, in.ID+" (no Name tag)")
		}
	}
	return Instance{}, &Error{
		Msg:  fmt.Sprintf("--instance %q matches no usable container instance of cluster %s; tried: %s", sel.raw, cl, joinSome(tried)),
		Hint: "the pattern is a Go regular expression matched against the Name tag and the instance id",
	}
}

func (r *Resolver) noUsable(cl cluster, cis []containerInstance) error {
	if len(cis) == 0 {
		return &Error{
			Msg:  fmt.Sprintf("cluster %s has no ACTIVE container instances in region %s", cl, r.Region),
			Hint: "check --cluster; a cluster without EC2 instances needs --launch-type FARGATE",
		}
	}
	return &Error{
		Msg:  fmt.Sprintf("cluster %s has no ACTIVE container instances with a connected agent (%d registered: %s)", cl, len(cis), labels(cis, false)),
		Hint: "check the ECS agent on the instances, or pass another --cluster",
	}
}

// labels lists container instances for messages, with why each is not
// usable unless onlyUsable.
func labels(cis []containerInstance, onlyUsable bool) string {
	var out []string
	for _, ci := range cis {
		switch {
		case ci.usable():
			out = append(out, ci.label())
		case !onlyUsable:
			out = append(out, ci.label()+" ("+ci.why()+")")
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return joinSome(out)
}

// maxListed bounds the items a message lists.
const maxListed = 20

// joinSome joins items for a message, eliding all but the first maxListed.
func joinSome(items []string) string {
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(", … (%d more)", len(items)-maxListed)
	}
	return strings.Join(items, ", ")
}

// listContainerInstances returns the ARNs of the cluster's container
// instances with status (all but INACTIVE when empty) matching filter (none
// when empty), every page, in the order AWS lists them.
func (r *Resolver) listContainerInstances(ctx context.Context, clusterName string, status ecstypes.ContainerInstanceStatus, filter string) ([]string, error) {
	in := &awsecs.ListContainerInstancesInput{Cluster: &clusterName, Status: status}
	if filter != "" {
		in.Filter = &filter
	}
	var arns []string
	seen := map[string]bool{}
	for p := awsecs.NewListContainerInstancesPaginator(r.ECS, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range out.ContainerInstanceArns {
			if !seen[a] {
				seen[a] = true
				arns = append(arns, a)
			}
		}
	}
	return arns, nil
}

// listError translates a ListContainerInstances failure, listing the
// region's clusters when the cluster does not exist.
func (r *Resolver) listError(ctx context.Context, cl cluster, err error) error {
	if !isClusterNotFound(err) {
		return r.translate("ecs:ListContainerInstances", fmt.Sprintf("list container instances of cluster %s", cl), err)
	}
	msg := fmt.Sprintf("cluster %s not found in region %s", cl, r.Region)
	if names, lerr := r.clusterNames(ctx); lerr == nil {
		if len(names) == 0 {
			msg += "; there are no clusters in this region"
		} else {
			msg += "; clusters: " + strings.Join(names, ", ")
		}
	}
	hint := "check --cluster, --region and --profile"
	if cl.guessed {
		hint = "pass --cluster NAME"
	}
	return &Error{Msg: msg, Hint: hint, Err: err}
}

// clusterNames lists the names of the region's clusters, every page.
func (r *Resolver) clusterNames(ctx context.Context) ([]string, error) {
	var names []string
	for p := awsecs.NewListClustersPaginator(r.ECS, &awsecs.ListClustersInput{}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range out.ClusterArns {
			names = append(names, a[strings.LastIndexByte(a, '/')+1:])
		}
	}
	slices.Sort(names)
	return names, nil
}

// describeContainerInstances describes arns in concurrent batches and
// returns them by ARN, and also by the id or ARN they were asked for.
func (r *Resolver) describeContainerInstances(ctx context.Context, cl cluster, arns []string) (map[string]containerInstance, error) {
	batches := slices.Collect(slices.Chunk(arns, batchSize))
	outs := make([][]ecstypes.ContainerInstance, len(batches))
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Go(func() {
			out, err := r.ECS.DescribeContainerInstances(ctx, &awsecs.DescribeContainerInstancesInput{Cluster: &cl.name, ContainerInstances: b})
			if err != nil {
				errs[i] = err
				return
			}
			outs[i] = out.ContainerInstances
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, r.translate("ecs:DescribeContainerInstances", fmt.Sprintf("describe container instances of cluster %s", cl), err)
		}
	}
	m := make(map[string]containerInstance, len(arns))
	for _, out := range outs {
		for _, c := range out {
			ci := containerInstance{
				arn:            str(c.ContainerInstanceArn),
				ec2ID:          str(c.Ec2InstanceId),
				status:         str(c.Status),
				reason:         str(c.StatusReason),
				agentConnected: c.AgentConnected,
				described:      true,
			}
			m[ci.arn] = ci
		}
	}
	// An instance asked for by its id is keyed by that id too.
	for _, a := range arns {
		if _, ok := m[a]; ok {
			continue
		}
		for _, ci := range m {
			if ci.arn[strings.LastIndexByte(ci.arn, '/')+1:] == a {
				m[a] = ci
			}
		}
	}
	return m, nil
}

// describeInstances describes EC2 instances in concurrent batches, every
// page, and returns them by instance id.
func (r *Resolver) describeInstances(ctx context.Context, cl cluster, ids []string) (map[string]Instance, error) {
	batches := slices.Collect(slices.Chunk(ids, batchSize))
	outs := make([][]Instance, len(batches))
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Go(func() {
			for p := ec2.NewDescribeInstancesPaginator(r.EC2, &ec2.DescribeInstancesInput{InstanceIds: b}); p.HasMorePages(); {
				out, err := p.NextPage(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				for _, res := range out.Reservations {
					for _, in := range res.Instances {
						outs[i] = append(outs[i], instanceOf(in))
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			what := fmt.Sprintf("describe EC2 instance %s of cluster %s", strings.Join(ids, ", "), cl)
			if len(ids) > 3 {
				what = fmt.Sprintf("describe the %d EC2 instances of cluster %s", len(ids), cl)
			}
			return nil, r.translate("ec2:DescribeInstances", what, err)
		}
	}
	m := make(map[string]Instance, len(ids))
	for _, out := range outs {
		for _, in := range out {
			m[in.ID] = in
		}
	}
	return m, nil
}

func instanceOf(in ec2types.Instance) Instance {
	out := Instance{
		ID:         str(in.InstanceId),
		PrivateIP:  str(in.PrivateIpAddress),
		PublicIP:   str(in.PublicIpAddress),
		PrivateDNS: str(in.PrivateDnsName),
		PublicDNS:  str(in.PublicDnsName),
	}
	for _, t := range in.Tags {
		if str(t.Key) == "Name" {
			out.Name = str(t.Value)
		}
	}
	return out
}
