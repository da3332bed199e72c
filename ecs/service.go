package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Network is the awsvpc network configuration of a service.
type Network struct {
	Subnets        []string
	SecurityGroups []string
	AssignPublicIP bool
}

// ServiceNetwork returns the awsvpc configuration of the service's PRIMARY
// deployment (else of the service itself), for running a task beside it.
// req.Service is required, and req.Cluster unless it can be guessed.
func (r *Resolver) ServiceNetwork(ctx context.Context, req Request) (*Network, error) {
	cl, err := clusterOf(req)
	if err != nil {
		return nil, err
	}
	if req.Service == "" {
		return nil, &Error{Msg: "no service given", Hint: "pass --service NAME"}
	}
	svc, err := r.describeService(ctx, cl, req.Service)
	if err != nil {
		return nil, err
	}
	nc := svc.NetworkConfiguration
	if d := primary(svc); d != nil && d.NetworkConfiguration != nil {
		nc = d.NetworkConfiguration
	}
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return nil, &Error{
			Msg:  fmt.Sprintf("service %q of cluster %s has no awsvpc network configuration", req.Service, cl),
			Hint: "pass --subnets and --security-groups",
		}
	}
	vpc := nc.AwsvpcConfiguration
	return &Network{
		Subnets:        slices.Clone(vpc.Subnets),
		SecurityGroups: slices.Clone(vpc.SecurityGroups),
		AssignPublicIP: vpc.AssignPublicIp == ecstypes.AssignPublicIpEnabled,
	}, nil
}

// serviceTaskDefinition returns the task definition of the service's
// PRIMARY deployment, else the service's own.
func (r *Resolver) serviceTaskDefinition(ctx context.Context, cl cluster, service string) (string, error) {
	svc, err := r.describeService(ctx, cl, service)
	if err != nil {
		return "", err
	}
	if d := primary(svc); d != nil && str(d.TaskDefinition) != "" {
		return *d.TaskDefinition, nil
	}
	if td := str(svc.TaskDefinition); td != "" {
		return td, nil
	}
	return "", &Error{Msg: fmt.Sprintf("service %q of cluster %s has no task definition", service, cl)}
}

func primary(svc *ecstypes.Service) *ecstypes.Deployment {
	for i := range svc.Deployments {
		if str(svc.Deployments[i].Status) == "PRIMARY" {
			return &svc.Deployments[i]
		}
	}
	return nil
}

// describeService describes one ACTIVE service; an unknown one is an error
// listing the cluster's services.
func (r *Resolver) describeService(ctx context.Context, cl cluster, service string) (*ecstypes.Service, error) {
	out, err := r.ECS.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: &cl.name, Services: []string{service}})
	if err != nil {
		switch {
		case isClusterNotFound(err):
			return nil, r.listError(ctx, cl, err)
		case isServiceNotFound(err):
			return nil, r.serviceNotFound(ctx, cl, service, err)
		}
		return nil, r.translate("ecs:DescribeServices", fmt.Sprintf("describe service %q of cluster %s", service, cl), err)
	}
	for i := range out.Services {
		svc := &out.Services[i]
		if str(svc.Status) != "INACTIVE" && (str(svc.ServiceName) == service || str(svc.ServiceArn) == service) {
			return svc, nil
		}
	}
	return nil, r.serviceNotFound(ctx, cl, service, nil)
}

func (r *Resolver) serviceNotFound(ctx context.Context, cl cluster, service string, cause error) error {
	msg := fmt.Sprintf("service %q not found in cluster %s in region %s", service, cl, r.Region)
	if names, err := r.serviceNames(ctx, cl.name); err == nil {
		if len(names) == 0 {
			msg += "; the cluster has no services"
		} else {
			msg += "; services: " + strings.Join(names, ", ")
		}
	}
	return &Error{Msg: msg, Hint: "check --service and --cluster", Err: cause}
}

// serviceNames lists the names of the cluster's services, every page.
func (r *Resolver) serviceNames(ctx context.Context, clusterName string) ([]string, error) {
	var names []string
	for p := awsecs.NewListServicesPaginator(r.ECS, &awsecs.ListServicesInput{Cluster: &clusterName}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range out.ServiceArns {
			names = append(names, a[strings.LastIndexByte(a, '/')+1:])
		}
	}
	slices.Sort(names)
	return names, nil
}
