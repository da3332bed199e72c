package emulator

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

func (s *Server) ec2Op(op string, params url.Values, reqID string) (any, error) {
	switch op {
	case "DescribeInstances":
		return s.describeInstances(params, reqID)
	case "DescribeNetworkInterfaces":
		return s.describeNetworkInterfaces(params, reqID)
	case "":
		return nil, &apiError{status: 400, code: "MissingAction", message: "The request must contain the parameter Action"}
	}
	return nil, &apiError{status: 400, code: "InvalidAction", message: fmt.Sprintf("The action %s is not valid for this web service.", op)}
}

// listParam returns the values of Name.1, Name.2, … in index order.
func listParam(params url.Values, name string) []string {
	type kv struct {
		i int
		v string
	}
	var items []kv
	for k, vs := range params {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || len(vs) == 0 {
			continue
		}
		items = append(items, kv{i, vs[0]})
	}
	slices.SortFunc(items, func(a, b kv) int { return a.i - b.i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// filters decodes Filter.N.Name / Filter.N.Value.M into name → values.
func filters(params url.Values) map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		name := params.Get("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			return out
		}
		out[name] = append(out[name], listParam(params, "Filter."+strconv.Itoa(i)+".Value")...)
	}
}

// matchFilters reports whether an object with these attributes passes every
// filter; filters on unknown attributes match nothing, as on AWS.
func matchFilters(f map[string][]string, attrs map[string]string) bool {
	for name, values := range f {
		v, ok := attrs[name]
		if !ok || !slices.Contains(values, v) {
			return false
		}
	}
	return true
}

func (s *Server) ec2Page(n int, params url.Values) (start, end int, next string, err error) {
	var maxResults *int
	if v := params.Get("MaxResults"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, "", &apiError{status: 400, code: "InvalidParameterValue", message: "Invalid value for MaxResults"}
		}
		maxResults = &m
	}
	token := params.Get("NextToken")
	start, end, tok, err := s.page(n, maxResults, &token, "InvalidParameterValue")
	if tok != nil {
		next = *tok
	}
	return start, end, next, err
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlInstance struct {
	InstanceID    string `xml:"instanceId"`
	ImageID       string `xml:"imageId"`
	InstanceState struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	PrivateDNSName   string   `xml:"privateDnsName"`
	DNSName          string   `xml:"dnsName"`
	InstanceType     string   `xml:"instanceType"`
	SubnetID         string   `xml:"subnetId,omitempty"`
	VpcID            string   `xml:"vpcId,omitempty"`
	PrivateIPAddress string   `xml:"privateIpAddress,omitempty"`
	IPAddress        string   `xml:"ipAddress,omitempty"`
	Tags             []xmlTag `xml:"tagSet>item"`
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	GroupSet      struct{}      `xml:"groupSet"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func (s *Server) describeInstances(params url.Values, reqID string) (any, error) {
	ids := listParam(params, "InstanceId")
	f := filters(params)
	var matched []*Instance
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			in := s.st.instance(id)
			if in == nil {
				missing = append(missing, id)
				continue
			}
			matched = append(matched, in)
		}
		switch {
		case len(missing) == 1:
			return nil, &apiError{status: 400, code: "InvalidInstanceID.NotFound", message: fmt.Sprintf("The instance ID '%s' does not exist", missing[0])}
		case len(missing) > 1:
			return nil, &apiError{status: 400, code: "InvalidInstanceID.NotFound", message: fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", "))}
		}
	} else {
		for i := range s.st.Instances {
			matched = append(matched, &s.st.Instances[i])
		}
	}
	matched = slices.DeleteFunc(matched, func(in *Instance) bool {
		attrs := map[string]string{"instance-id": in.InstanceID, "instance-state-name": in.State,
			"private-ip-address": in.PrivateIP, "ip-address": in.PublicIP}
		for k, v := range in.Tags {
			attrs["tag:"+k] = v
		}
		return !matchFilters(f, attrs)
	})
	start, end, next, err := s.ec2Page(len(matched), params)
	if err != nil {
		return nil, err
	}
	out := describeInstancesResponse{Xmlns: ec2Namespace, RequestID: reqID, NextToken: next}
	for _, in := range matched[start:end] {
		x := xmlInstance{
			InstanceID: in.InstanceID, ImageID: "ami-0123456789abcdef0",
			PrivateDNSName: in.PrivateDNS, DNSName: in.PublicDNS, InstanceType: in.InstanceType,
			SubnetID: in.SubnetID, VpcID: in.VpcID, PrivateIPAddress: in.PrivateIP, IPAddress: in.PublicIP,
		}
		if x.InstanceType == "" {
			x.InstanceType = "t3.medium"
		}
		x.InstanceState.Code = stateCodes[in.State]
		x.InstanceState.Name = in.State
		keys := make([]string, 0, len(in.Tags))
		for k := range in.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			x.Tags = append(x.Tags, xmlTag{k, in.Tags[k]})
		}
		out.Reservations = append(out.Reservations, xmlReservation{
			ReservationID: "r-" + strings.TrimPrefix(in.InstanceID, "i-"),
			OwnerID:       s.st.AccountID,
			Instances:     []xmlInstance{x},
		})
	}
	return out, nil
}

type xmlAssociation struct {
	PublicIP      string `xml:"publicIp"`
	PublicDNSName string `xml:"publicDnsName,omitempty"`
	IPOwnerID     string `xml:"ipOwnerId"`
}

type xmlNetworkInterface struct {
	NetworkInterfaceID string          `xml:"networkInterfaceId"`
	SubnetID           string          `xml:"subnetId,omitempty"`
	InterfaceType      string          `xml:"interfaceType"`
	Status             string          `xml:"status"`
	MacAddress         string          `xml:"macAddress,omitempty"`
	PrivateIPAddress   string          `xml:"privateIpAddress,omitempty"`
	PrivateDNSName     string          `xml:"privateDnsName,omitempty"`
	PublicDNSName      string          `xml:"publicDnsName,omitempty"`
	Association        *xmlAssociation `xml:"association,omitempty"`
}

type describeNetworkInterfacesResponse struct {
	XMLName    xml.Name              `xml:"DescribeNetworkInterfacesResponse"`
	Xmlns      string                `xml:"xmlns,attr"`
	RequestID  string                `xml:"requestId"`
	Interfaces []xmlNetworkInterface `xml:"networkInterfaceSet>item"`
	NextToken  string                `xml:"nextToken,omitempty"`
}

func (s *Server) describeNetworkInterfaces(params url.Values, reqID string) (any, error) {
	all := s.networkInterfaces()
	ids := listParam(params, "NetworkInterfaceId")
	f := filters(params)
	var matched []NetworkInterface
	if len(ids) > 0 {
		for _, id := range ids {
			i := slices.IndexFunc(all, func(n NetworkInterface) bool { return n.ID == id })
			if i < 0 {
				return nil, &apiError{status: 400, code: "InvalidNetworkInterfaceID.NotFound", message: fmt.Sprintf("The networkInterface ID '%s' does not exist", id)}
			}
			matched = append(matched, all[i])
		}
	} else {
		matched = all
	}
	matched = slices.DeleteFunc(matched, func(n NetworkInterface) bool {
		return !matchFilters(f, map[string]string{"network-interface-id": n.ID, "subnet-id": n.SubnetID,
			"addresses.private-ip-address": n.PrivateIP, "association.public-ip": n.PublicIP, "status": n.Status})
	})
	start, end, next, err := s.ec2Page(len(matched), params)
	if err != nil {
		return nil, err
	}
	out := describeNetworkInterfacesResponse{Xmlns: ec2Namespace, RequestID: reqID, NextToken: next}
	for _, n := range matched[start:end] {
		x := xmlNetworkInterface{
			NetworkInterfaceID: n.ID, SubnetID: n.SubnetID, InterfaceType: "interface", Status: n.Status,
			MacAddress: n.MacAddress, PrivateIPAddress: n.PrivateIP, PrivateDNSName: n.PrivateDNS, PublicDNSName: n.PublicDNS,
		}
		if n.PublicIP != "" {
			x.Association = &xmlAssociation{PublicIP: n.PublicIP, PublicDNSName: n.PublicDNS, IPOwnerID: "amazon"}
		}
		out.Interfaces = append(out.Interfaces, x)
	}
	return out, nil
}

// networkInterfaces returns the fixture's interfaces followed by the ones
// of live tasks.
func (s *Server) networkInterfaces() []NetworkInterface {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append([]NetworkInterface(nil), s.st.NetworkInterfaces...)
	return append(all, s.enis...)
}

func marshalXML(v any) ([]byte, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal response: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

func ec2ErrorXML(e *apiError, reqID string) string {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Response><Errors><Error><Code>")
	_ = xml.EscapeText(&b, []byte(e.code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(e.message))
	b.WriteString("</Message></Error></Errors><RequestID>")
	_ = xml.EscapeText(&b, []byte(reqID))
	b.WriteString("</RequestID></Response>")
	return b.String()
}
