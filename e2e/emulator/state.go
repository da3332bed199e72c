package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// State is the emulated AWS account: clusters, container instances, EC2
// instances, services, network interfaces and task definitions. It is read
// from a JSON fixture (see e2e/testdata/state/bed.json) and not changed by
// the read-only operations; tasks started with RunTask live in the Server.
//
// Every object accepts a "_comment" key, ignored by the emulator.
type State struct {
	Comment any `json:"_comment,omitempty"`
	// Region and AccountID appear in every ARN; defaults us-east-1 and
	// 123456789012.
	Region    string `json:"region,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	// PageSize caps every paginated list (default 100), so that tests can
	// force several pages without many objects.
	PageSize int `json:"pageSize,omitempty"`
	// TaskSteps is how many DescribeTasks calls a new task spends in each of
	// PROVISIONING and PENDING before it moves on (nil = 1; 0 = RUNNING as
	// soon as its runner has started it).
	TaskSteps *int `json:"taskSteps,omitempty"`

	Clusters          []Cluster          `json:"clusters"`
	Instances         []Instance         `json:"instances"`
	NetworkInterfaces []NetworkInterface `json:"networkInterfaces,omitempty"`
	// TaskDefinitions are AWS-shaped task definitions (the "taskDefinition"
	// member of a DescribeTaskDefinition response), returned as they are
	// with taskDefinitionArn, revision and status filled in when absent.
	// Keys starting with "_" are removed; "_tags" ([{key,value}]) is
	// returned for include TAGS.
	TaskDefinitions []json.RawMessage `json:"taskDefinitions"`

	// Parameters, Secrets and Objects ("bucket/key" → content) hold the
	// values behind task-definition secrets and environment files.
	Parameters []Parameter       `json:"parameters,omitempty"`
	Secrets    []Secret          `json:"secrets,omitempty"`
	Objects    map[string]string `json:"objects,omitempty"`

	taskDefs []*taskDef
}

// Cluster is an ECS cluster with its container instances and services.
type Cluster struct {
	Comment            any                 `json:"_comment,omitempty"`
	Name               string              `json:"name"`
	Status             string              `json:"status,omitempty"` // default ACTIVE
	ContainerInstances []ContainerInstance `json:"containerInstances,omitempty"`
	Services           []Service           `json:"services,omitempty"`
}

// ContainerInstance is an EC2 instance registered in a cluster.
type ContainerInstance struct {
	Comment any `json:"_comment,omitempty"`
	// ID is the container-instance id (the ARN suffix); derived from the
	// cluster and EC2 instance id when empty.
	ID             string `json:"id,omitempty"`
	EC2InstanceID  string `json:"ec2InstanceId"`
	Status         string `json:"status,omitempty"`         // default ACTIVE
	AgentConnected *bool  `json:"agentConnected,omitempty"` // default true
	RunningTasks   int    `json:"runningTasksCount,omitempty"`
}

// Service is an ECS service; its task definition is a family, family:revision
// or ARN of one of State.TaskDefinitions.
type Service struct {
	Comment              any             `json:"_comment,omitempty"`
	Name                 string          `json:"serviceName"`
	TaskDefinition       string          `json:"taskDefinition"`
	LaunchType           string          `json:"launchType,omitempty"` // default EC2
	PlatformVersion      string          `json:"platformVersion,omitempty"`
	DesiredCount         int             `json:"desiredCount,omitempty"`
	NetworkConfiguration json.RawMessage `json:"networkConfiguration,omitempty"` // AWS shape: {"awsvpcConfiguration":{...}}
}

// Instance is an EC2 instance.
type Instance struct {
	Comment      any               `json:"_comment,omitempty"`
	InstanceID   string            `json:"instanceId"`
	State        string            `json:"state,omitempty"` // default running
	InstanceType string            `json:"instanceType,omitempty"`
	PrivateIP    string            `json:"privateIp,omitempty"`
	PublicIP     string            `json:"publicIp,omitempty"`
	PrivateDNS   string            `json:"privateDns,omitempty"`
	PublicDNS    string            `json:"publicDns,omitempty"`
	SubnetID     string            `json:"subnetId,omitempty"`
	VpcID        string            `json:"vpcId,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// NetworkInterface is an EC2 network interface (tasks add their own).
type NetworkInterface struct {
	Comment    any    `json:"_comment,omitempty"`
	ID         string `json:"networkInterfaceId"`
	Status     string `json:"status,omitempty"` // default in-use
	SubnetID   string `json:"subnetId,omitempty"`
	MacAddress string `json:"macAddress,omitempty"`
	PrivateIP  string `json:"privateIp,omitempty"`
	PrivateDNS string `json:"privateDns,omitempty"`
	PublicIP   string `json:"publicIp,omitempty"`
	PublicDNS  string `json:"publicDns,omitempty"`
}

// taskDef is a parsed task definition.
type taskDef struct {
	family   string
	revision int
	status   string
	arn      string
	raw      map[string]json.RawMessage // returned as-is
	tags     json.RawMessage
}

// LoadState reads and validates a state fixture.
func LoadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	st, err := ParseState(data)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", path, err)
	}
	return st, nil
}

// ParseState decodes and validates a state fixture; unknown keys are errors.
func ParseState(data []byte) (*State, error) {
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if err := st.init(); err != nil {
		return nil, err
	}
	return &st, nil
}

func (st *State) init() error {
	if st.Region == "" {
		st.Region = "us-east-1"
	}
	if st.AccountID == "" {
		st.AccountID = "123456789012"
	}
	if st.PageSize <= 0 {
		st.PageSize = 100
	}
	instances := map[string]bool{}
	for i := range st.Instances {
		in := &st.Instances[i]
		if in.InstanceID == "" {
			return fmt.Errorf("instance %d has no instanceId", i)
		}
		if instances[in.InstanceID] {
			return fmt.Errorf("instance %s listed twice", in.InstanceID)
		}
		instances[in.InstanceID] = true
		if in.State == "" {
			in.State = "running"
		}
	}
	for i := range st.NetworkInterfaces {
		if st.NetworkInterfaces[i].Status == "" {
			st.NetworkInterfaces[i].Status = "in-use"
		}
	}
	if err := st.initTaskDefs(); err != nil {
		return err
	}
	if err := st.initSecrets(); err != nil {
		return err
	}
	clusters := map[string]bool{}
	for ci := range st.Clusters {
		c := &st.Clusters[ci]
		if c.Name == "" {
			return fmt.Errorf("cluster %d has no name", ci)
		}
		if clusters[c.Name] {
			return fmt.Errorf("cluster %s listed twice", c.Name)
		}
		clusters[c.Name] = true
		if c.Status == "" {
			c.Status = "ACTIVE"
		}
		for i := range c.ContainerInstances {
			ci := &c.ContainerInstances[i]
			if !instances[ci.EC2InstanceID] {
				return fmt.Errorf("cluster %s: container instance refers to unknown EC2 instance %q", c.Name, ci.EC2InstanceID)
			}
			if ci.ID == "" {
				sum := sha256.Sum256([]byte(c.Name + "/" + ci.EC2InstanceID))
				ci.ID = hex.EncodeToString(sum[:16])
			}
			if ci.Status == "" {
				ci.Status = "ACTIVE"
			}
			if ci.AgentConnected == nil {
				t := true
				ci.AgentConnected = &t
			}
		}
		for i := range c.Services {
			s := &c.Services[i]
			td := st.findTaskDef(s.TaskDefinition)
			if td == nil {
				return fmt.Errorf("cluster %s: service %s refers to unknown task definition %q", c.Name, s.Name, s.TaskDefinition)
			}
			s.TaskDefinition = td.arn
			if s.LaunchType == "" {
				s.LaunchType = "EC2"
			}
		}
	}
	return nil
}

// emptyLists are the container-definition members AWS always returns, empty
// when unset.
var emptyLists = []string{"portMappings", "environment", "mountPoints", "volumesFrom", "secrets", "environmentFiles", "systemControls"}

func (st *State) initTaskDefs() error {
	next := map[string]int{}
	for i, raw := range st.TaskDefinitions {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("task definition %d: %w", i, err)
		}
		td := &taskDef{raw: m, tags: json.RawMessage("[]")}
		if t, ok := m["_tags"]; ok {
			td.tags = t
		}
		for k := range m {
			if strings.HasPrefix(k, "_") {
				delete(m, k)
			}
		}
		if err := unmarshalOpt(m, "family", &td.family); err != nil || td.family == "" {
			return fmt.Errorf("task definition %d has no family", i)
		}
		if err := unmarshalOpt(m, "revision", &td.revision); err != nil {
			return fmt.Errorf("task definition %s: revision: %w", td.family, err)
		}
		if td.revision == 0 {
			td.revision = next[td.family] + 1
		}
		next[td.family] = max(next[td.family], td.revision)
		if err := unmarshalOpt(m, "status", &td.status); err != nil {
			return fmt.Errorf("task definition %s: status: %w", td.family, err)
		}
		if td.status == "" {
			td.status = "ACTIVE"
		}
		td.arn = st.arn("task-definition/" + td.family + ":" + strconv.Itoa(td.revision))
		if st.findTaskDef(td.family+":"+strconv.Itoa(td.revision)) != nil {
			return fmt.Errorf("task definition %s:%d listed twice", td.family, td.revision)
		}
		m["taskDefinitionArn"] = mustJSON(td.arn)
		m["revision"] = mustJSON(td.revision)
		m["status"] = mustJSON(td.status)
		for _, k := range []string{"containerDefinitions", "volumes", "placementConstraints", "requiresAttributes", "compatibilities"} {
			if _, ok := m[k]; !ok {
				m[k] = json.RawMessage("[]")
			}
		}
		var containers []map[string]json.RawMessage
		if err := json.Unmarshal(m["containerDefinitions"], &containers); err != nil {
			return fmt.Errorf("task definition %s: containerDefinitions: %w", td.family, err)
		}
		for _, c := range containers {
			for _, k := range emptyLists {
				if _, ok := c[k]; !ok {
					c[k] = json.RawMessage("[]")
				}
			}
		}
		m["containerDefinitions"] = mustJSON(containers)
		st.taskDefs = append(st.taskDefs, td)
	}
	return nil
}

// findTaskDef resolves a family (latest ACTIVE revision), family:revision or
// ARN; nil when there is no such task definition.
func (st *State) findTaskDef(name string) *taskDef {
	if i := strings.Index(name, ":task-definition/"); strings.HasPrefix(name, "arn:") && i >= 0 {
		name = name[i+len(":task-definition/"):]
	}
	family, rev, hasRev := strings.Cut(name, ":")
	var best *taskDef
	for _, td := range st.taskDefs {
		if td.family != family {
			continue
		}
		if hasRev {
			if strconv.Itoa(td.revision) == rev {
				return td
			}
			continue
		}
		if td.status == "ACTIVE" && (best == nil || td.revision > best.revision) {
			best = td
		}
	}
	return best
}

func (st *State) cluster(name string) *Cluster {
	if name == "" {
		name = "default"
	}
	if i := strings.Index(name, ":cluster/"); strings.HasPrefix(name, "arn:") && i >= 0 {
		name = name[i+len(":cluster/"):]
	}
	for i := range st.Clusters {
		if st.Clusters[i].Name == name {
			return &st.Clusters[i]
		}
	}
	return nil
}

func (st *State) instance(id string) *Instance {
	for i := range st.Instances {
		if st.Instances[i].InstanceID == id {
			return &st.Instances[i]
		}
	}
	return nil
}

// arn builds an ECS ARN for a resource such as "cluster/prod".
func (st *State) arn(resource string) string {
	return "arn:aws:ecs:" + st.Region + ":" + st.AccountID + ":" + resource
}

func unmarshalOpt(m map[string]json.RawMessage, key string, v any) error {
	raw, ok := m[key]
	if !ok {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with values that always marshal
	}
	return b
}
