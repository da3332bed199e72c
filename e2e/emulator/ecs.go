package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// fixtureTime is the timestamp (epoch seconds) of everything in the fixture.
const fixtureTime = 1700000000.0

// tag is an ECS tag.
type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// failure is an ECS failures[] entry.
type failure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

func (s *Server) ecsOp(ctx context.Context, op string, body []byte) (any, error) {
	switch op {
	case "DescribeTaskDefinition":
		return s.describeTaskDefinition(body)
	case "ListClusters":
		return s.listClusters(body)
	case "DescribeClusters":
		return s.describeClusters(body)
	case "ListContainerInstances":
		return s.listContainerInstances(body)
	case "DescribeContainerInstances":
		return s.describeContainerInstances(body)
	case "ListServices":
		return s.listServices(body)
	case "DescribeServices":
		return s.describeServices(body)
	case "RunTask":
		return s.runTask(body)
	case "DescribeTasks":
		return s.describeTasks(ctx, body)
	case "StopTask":
		return s.stopTask(ctx, body)
	case "ListTasks":
		return s.listTasks(body)
	}
	return nil, errf("UnknownOperationException", "Unknown operation %s", op)
}

func decodeECS(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errf("SerializationException", "cannot decode request: %v", err)
	}
	return nil
}

// page returns the window [start,end) of n items for a request and the
// token of the next page ("" = last page).
func (s *Server) page(n int, maxResults *int, token *string, badCode string) (start, end int, next *string, err error) {
	size := s.st.PageSize
	if maxResults != nil {
		if *maxResults < 1 {
			return 0, 0, nil, errf(badCode, "maxResults must be positive")
		}
		size = min(size, *maxResults)
	}
	if token != nil && *token != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(*token)
		off, cerr := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if derr != nil || cerr != nil || !strings.HasPrefix(string(raw), "offset:") || off < 0 || off > n {
			return 0, 0, nil, errf(badCode, "Invalid nextToken")
		}
		start = off
	}
	end = min(n, start+size)
	if end < n {
		t := base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
		next = &t
	}
	return start, end, next, nil
}

func (s *Server) clusterOrError(name string) (*Cluster, error) {
	c := s.st.cluster(name)
	if c == nil {
		return nil, errf("ClusterNotFoundException", "Cluster not found.")
	}
	return c, nil
}

func (s *Server) describeTaskDefinition(body []byte) (any, error) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	td := s.st.findTaskDef(in.TaskDefinition)
	if in.TaskDefinition == "" || td == nil {
		return nil, errf("ClientException", "Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": td.raw}
	if slices.Contains(in.Include, "TAGS") {
		out["tags"] = td.tags
	}
	return out, nil
}

func (s *Server) listClusters(body []byte) (any, error) {
	var in struct {
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	start, end, next, err := s.page(len(s.st.Clusters), in.MaxResults, in.NextToken, "InvalidParameterException")
	if err != nil {
		return nil, err
	}
	arns := []string{}
	for _, c := range s.st.Clusters[start:end] {
		arns = append(arns, s.st.arn("cluster/"+c.Name))
	}
	return withNext(map[string]any{"clusterArns": arns}, next), nil
}

func (s *Server) describeClusters(body []byte) (any, error) {
	var in struct {
		Clusters []string `json:"clusters"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	type cluster struct {
		ClusterArn                        string `json:"clusterArn"`
		ClusterName                       string `json:"clusterName"`
		Status                            string `json:"status"`
		RegisteredContainerInstancesCount int    `json:"registeredContainerInstancesCount"`
		RunningTasksCount                 int    `json:"runningTasksCount"`
		PendingTasksCount                 int    `json:"pendingTasksCount"`
		ActiveServicesCount               int    `json:"activeServicesCount"`
		Statistics                        []any  `json:"statistics"`
		Tags                              []any  `json:"tags"`
		Settings                          []any  `json:"settings"`
		CapacityProviders                 []any  `json:"capacityProviders"`
	}
	out := struct {
		Clusters []cluster `json:"clusters"`
		Failures []failure `json:"failures"`
	}{Clusters: []cluster{}, Failures: []failure{}}
	for _, name := range in.Clusters {
		c := s.st.cluster(name)
		if c == nil {
			arn := name
			if !strings.HasPrefix(arn, "arn:") {
				arn = s.st.arn("cluster/" + name)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		running, pending := s.taskCounts(c.Name)
		out.Clusters = append(out.Clusters, cluster{
			ClusterArn: s.st.arn("cluster/" + c.Name), ClusterName: c.Name, Status: c.Status,
			RegisteredContainerInstancesCount: len(c.ContainerInstances),
			RunningTasksCount:                 running, PendingTasksCount: pending,
			ActiveServicesCount: len(c.Services),
			Statistics:          []any{}, Tags: []any{}, Settings: []any{}, CapacityProviders: []any{},
		})
	}
	return out, nil
}

func (s *Server) containerInstanceARN(c *Cluster, ci *ContainerInstance) string {
	return s.st.arn("container-instance/" + c.Name + "/" + ci.ID)
}

func (s *Server) listContainerInstances(body []byte) (any, error) {
	var in struct {
		Cluster    string  `json:"cluster"`
		Status     string  `json:"status"`
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	var matched []*ContainerInstance
	for i := range c.ContainerInstances {
		ci := &c.ContainerInstances[i]
		if in.Status == "" || ci.Status == in.Status {
			matched = append(matched, ci)
		}
	}
	start, end, next, err := s.page(len(matched), in.MaxResults, in.NextToken, "InvalidParameterException")
	if err != nil {
		return nil, err
	}
	arns := []string{}
	for _, ci := range matched[start:end] {
		arns = append(arns, s.containerInstanceARN(c, ci))
	}
	return withNext(map[string]any{"containerInstanceArns": arns}, next), nil
}

func (s *Server) describeContainerInstances(body []byte) (any, error) {
	var in struct {
		Cluster            string   `json:"cluster"`
		ContainerInstances []string `json:"containerInstances"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 100 {
		return nil, errf("InvalidParameterException", "containerInstances must contain between 1 and 100 elements.")
	}
	type containerInstance struct {
		ContainerInstanceArn string            `json:"containerInstanceArn"`
		Ec2InstanceID        string            `json:"ec2InstanceId"`
		Status               string            `json:"status"`
		AgentConnected       bool              `json:"agentConnected"`
		RunningTasksCount    int               `json:"runningTasksCount"`
		PendingTasksCount    int               `json:"pendingTasksCount"`
		Version              int64             `json:"version"`
		VersionInfo          map[string]string `json:"versionInfo"`
		RegisteredAt         float64           `json:"registeredAt"`
		Attributes           []any             `json:"attributes"`
		RegisteredResources  []any             `json:"registeredResources"`
		RemainingResources   []any             `json:"remainingResources"`
		Attachments          []any             `json:"attachments"`
		Tags                 []any             `json:"tags"`
	}
	out := struct {
		ContainerInstances []containerInstance `json:"containerInstances"`
		Failures           []failure           `json:"failures"`
	}{ContainerInstances: []containerInstance{}, Failures: []failure{}}
	for _, ref := range in.ContainerInstances {
		id := ref
		if i := strings.LastIndex(ref, "/"); i >= 0 {
			id = ref[i+1:]
		}
		var found *ContainerInstance
		for i := range c.ContainerInstances {
			if c.ContainerInstances[i].ID == id {
				found = &c.ContainerInstances[i]
				break
			}
		}
		if found == nil || (strings.HasPrefix(ref, "arn:") && ref != s.containerInstanceARN(c, found)) {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = s.st.arn("container-instance/" + c.Name + "/" + ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, containerInstance{
			ContainerInstanceArn: s.containerInstanceARN(c, found),
			Ec2InstanceID:        found.EC2InstanceID,
			Status:               found.Status,
			AgentConnected:       *found.AgentConnected,
			RunningTasksCount:    found.RunningTasks,
			Version:              1,
			VersionInfo:          map[string]string{"agentVersion": "1.80.0", "agentHash": "emulator", "dockerVersion": "DockerVersion: 25.0.3"},
			RegisteredAt:         fixtureTime,
			Attributes:           []any{}, RegisteredResources: []any{}, RemainingResources: []any{},
			Attachments: []any{}, Tags: []any{},
		})
	}
	return out, nil
}

func (s *Server) serviceARN(c *Cluster, name string) string {
	return s.st.arn("service/" + c.Name + "/" + name)
}

func (s *Server) listServices(body []byte) (any, error) {
	var in struct {
		Cluster    string  `json:"cluster"`
		LaunchType string  `json:"launchType"`
		MaxResults *int    `json:"maxResults"`
		NextToken  *string `json:"nextToken"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	var matched []string
	for _, sv := range c.Services {
		if in.LaunchType == "" || sv.LaunchType == in.LaunchType {
			matched = append(matched, s.serviceARN(c, sv.Name))
		}
	}
	start, end, next, err := s.page(len(matched), in.MaxResults, in.NextToken, "InvalidParameterException")
	if err != nil {
		return nil, err
	}
	arns := append([]string{}, matched[start:end]...)
	return withNext(map[string]any{"serviceArns": arns}, next), nil
}

func (s *Server) describeServices(body []byte) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if err := decodeECS(body, &in); err != nil {
		return nil, err
	}
	c, err := s.clusterOrError(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, errf("InvalidParameterException", "services must contain between 1 and 10 elements.")
	}
	type deployment struct {
		ID                   string          `json:"id"`
		Status               string          `json:"status"`
		TaskDefinition       string          `json:"taskDefinition"`
		DesiredCount         int             `json:"desiredCount"`
		RunningCount         int             `json:"runningCount"`
		PendingCount         int             `json:"pendingCount"`
		LaunchType           string          `json:"launchType"`
		PlatformVersion      string          `json:"platformVersion,omitempty"`
		NetworkConfiguration json.RawMessage `json:"networkConfiguration,omitempty"`
		RolloutState         string          `json:"rolloutState"`
		CreatedAt            float64         `json:"createdAt"`
		UpdatedAt            float64         `json:"updatedAt"`
	}
	type service struct {
		ServiceArn           string          `json:"serviceArn"`
		ServiceName          string          `json:"serviceName"`
		ClusterArn           string          `json:"clusterArn"`
		Status               string          `json:"status"`
		DesiredCount         int             `json:"desiredCount"`
		RunningCount         int             `json:"runningCount"`
		PendingCount         int             `json:"pendingCount"`
		LaunchType           string          `json:"launchType"`
		PlatformVersion      string          `json:"platformVersion,omitempty"`
		TaskDefinition       string          `json:"taskDefinition"`
		NetworkConfiguration json.RawMessage `json:"networkConfiguration,omitempty"`
		Deployments          []deployment    `json:"deployments"`
		LoadBalancers        []any           `json:"loadBalancers"`
		ServiceRegistries    []any           `json:"serviceRegistries"`
		Events               []any           `json:"events"`
		PlacementConstraints []any           `json:"placementConstraints"`
		PlacementStrategy    []any           `json:"placementStrategy"`
		SchedulingStrategy   string          `json:"schedulingStrategy"`
		CreatedAt            float64         `json:"createdAt"`
	}
	out := struct {
		Services []service `json:"services"`
		Failures []failure `json:"failures"`
	}{Services: []service{}, Failures: []failure{}}
	for _, ref := range in.Services {
		var found *Service
		for i := range c.Services {
			if ref == c.Services[i].Name || ref == s.serviceARN(c, c.Services[i].Name) {
				found = &c.Services[i]
				break
			}
		}
		if found == nil {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = s.serviceARN(c, ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Services = append(out.Services, service{
			ServiceArn: s.serviceARN(c, found.Name), ServiceName: found.Name,
			ClusterArn: s.st.arn("cluster/" + c.Name), Status: "ACTIVE",
			DesiredCount: found.DesiredCount, RunningCount: found.DesiredCount,
			LaunchType: found.LaunchType, PlatformVersion: found.PlatformVersion,
			TaskDefinition: found.TaskDefinition, NetworkConfiguration: found.NetworkConfiguration,
			Deployments: []deployment{{
				ID: "ecs-svc/" + strconv.Itoa(1000000000+len(found.Name)), Status: "PRIMARY",
				TaskDefinition: found.TaskDefinition, DesiredCount: found.DesiredCount, RunningCount: found.DesiredCount,
				LaunchType: found.LaunchType, PlatformVersion: found.PlatformVersion,
				NetworkConfiguration: found.NetworkConfiguration, RolloutState: "COMPLETED",
				CreatedAt: fixtureTime, UpdatedAt: fixtureTime,
			}},
			LoadBalancers: []any{}, ServiceRegistries: []any{}, Events: []any{},
			PlacementConstraints: []any{}, PlacementStrategy: []any{},
			SchedulingStrategy: "REPLICA", CreatedAt: fixtureTime,
		})
	}
	return out, nil
}

// withNext adds nextToken to a list response when there is another page.
func withNext(m map[string]any, next *string) map[string]any {
	if next != nil {
		m["nextToken"] = *next
	}
	return m
}
