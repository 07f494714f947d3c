package grade

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/cloudnativelab/lab/internal/spec"
)

// maxBody is how much of a response body is read and matched.
const maxBody = 1 << 20

func (t *Targets) httpProbe(h *spec.HTTPCheck) probe {
	ev := Evidence{Object: describeRequest(h), Expected: httpExpected(h)}
	// The pattern compiled when the file was loaded; it cannot fail here.
	body := regexp.MustCompile(h.Body)
	return func(ctx context.Context) observation {
		k, err := t.kube()
		if err == nil && t.HTTPErr != nil {
			err = t.HTTPErr
		}
		if err != nil {
			return unavailable(ev, err)
		}
		port, err := k.servicePort(ctx, h)
		if err != nil {
			return errored(ev, "no answer", err)
		}
		resp, err := k.proxyRequest(ctx, h, port)
		if err != nil {
			return errored(ev, "no answer", err)
		}
		if obs, ok := proxyFailure(resp, h, ev); ok {
			return obs
		}
		ev.Actual = describeResponse(resp)
		ev.Diff = responseDiff(resp, h, body)
		return verdict(len(ev.Diff) == 0, ev)
	}
}

// response is what came back, read whole (up to maxBody).
type response struct {
	status  int
	body    []byte
	latency time.Duration
	header  http.Header
}

// proxyRequest sends the check's request through the API server's service proxy:
// /api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH.
func (k *Kube) proxyRequest(ctx context.Context, h *spec.HTTPCheck, port string) (*response, error) {
	base, _, err := rest.DefaultServerUrlFor(k.Config)
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(h.Path)
	if err != nil {
		return nil, err
	}
	u := *base
	u.Path = strings.TrimRight(base.Path, "/") + proxyPath(h.Namespace, h.Service, port) + target.Path
	u.RawQuery = target.RawQuery
	req, err := http.NewRequestWithContext(ctx, h.Method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := k.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, body: data, latency: time.Since(start), header: resp.Header}, nil
}

func proxyPath(namespace, service, port string) string {
	if port != "" {
		service += ":" + port
	}
	return fmt.Sprintf("/api/v1/namespaces/%s/services/%s/proxy", namespace, service)
}

// servicePort is the port to name in the proxy path: the check's, else the name of the
// service's only port (the proxy matches endpoints by port name, so leaving it out only
// works for an unnamed port). A missing service is left to the proxy to report.
func (k *Kube) servicePort(ctx context.Context, h *spec.HTTPCheck) (string, error) {
	if h.Port != "" {
		return h.Port, nil
	}
	svc, err := k.Dynamic.Resource(servicesResource).Namespace(h.Namespace).Get(ctx, h.Service, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", describeAPIError(err)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 {
		return "", fmt.Errorf("service %s/%s has %d ports (%s): give the check's port, e.g. port: %s",
			h.Namespace, h.Service, len(ports), strings.Join(portNames(ports), ", "), firstOr(portNames(ports), "http"))
	}
	name, _, _ := unstructured.NestedString(ports[0].(map[string]any), "name")
	return name, nil
}

// portNames lists a service's port names (or numbers, for unnamed ports).
func portNames(ports []any) []string {
	names := make([]string, 0, len(ports))
	for _, p := range ports {
		m, _ := p.(map[string]any)
		if name, _, _ := unstructured.NestedString(m, "name"); name != "" {
			names = append(names, name)
		} else if port, ok, _ := unstructured.NestedInt64(m, "port"); ok {
			names = append(names, strconv.FormatInt(port, 10))
		}
	}
	return names
}

func firstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}

var servicesResource = schema.GroupVersionResource{Version: "v1", Resource: "services"}

// proxyFailure recognises answers of the API server itself rather than of the service:
// a metav1.Status. A missing service or one without ready endpoints is a failure of
// the graded work; anything else (RBAC, a proxy that cannot dial) is an error.
func proxyFailure(resp *response, h *spec.HTTPCheck, ev Evidence) (observation, bool) {
	var st metav1.Status
	if resp.status < 400 || json.Unmarshal(resp.body, &st) != nil || st.Kind != "Status" || st.APIVersion != "v1" {
		return observation{}, false
	}
	switch {
	case resp.status == http.StatusNotFound && st.Details != nil && st.Details.Kind == "services":
		ev.Actual = fmt.Sprintf("service %s/%s not found: %s", h.Namespace, h.Service, st.Message)
		return failed(ev), true
	case resp.status == http.StatusServiceUnavailable && strings.Contains(st.Message, "no endpoints available"):
		ev.Actual = "no ready endpoints: " + st.Message
		return failed(ev), true
	case resp.status == http.StatusForbidden:
		return errored(ev, "not allowed", fmt.Errorf("RBAC denied: %s", st.Message)), true
	case resp.status == http.StatusUnauthorized:
		return errored(ev, "not allowed", fmt.Errorf("not authenticated: %s", st.Message)), true
	}
	return errored(ev, "no answer from the service", fmt.Errorf("the API server could not proxy the request (%d): %s", resp.status, st.Message)), true
}

func responseDiff(resp *response, h *spec.HTTPCheck, body *regexp.Regexp) []string {
	var diff []string
	if resp.status != h.Status {
		diff = append(diff, fmt.Sprintf("status: expected %d, got %d", h.Status, resp.status))
	}
	if h.Body != "" && !body.Match(resp.body) {
		diff = append(diff, fmt.Sprintf("body: expected a match of %q, got %s", h.Body, quoteBody(resp.body)))
	}
	if h.MaxLatency > 0 && resp.latency > h.MaxLatency {
		diff = append(diff, fmt.Sprintf("latency: expected at most %s, got %s", h.MaxLatency, resp.latency.Round(time.Millisecond)))
	}
	return diff
}

func describeResponse(resp *response) string {
	s := fmt.Sprintf("status %d in %s", resp.status, resp.latency.Round(time.Millisecond))
	if len(resp.body) > 0 {
		s += ", body " + quoteBody(resp.body)
	}
	return s
}

// quoteBody is the start of a body, quoted, for evidence.
func quoteBody(b []byte) string {
	const limit = 80
	s := string(b)
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

func describeRequest(h *spec.HTTPCheck) string {
	service := h.Namespace + "/" + h.Service
	if h.Port != "" {
		service += ":" + h.Port
	}
	return fmt.Sprintf("%s %s through service %s", h.Method, h.Path, service)
}

func httpExpected(h *spec.HTTPCheck) string {
	s := fmt.Sprintf("status %d", h.Status)
	if h.Body != "" {
		s += fmt.Sprintf(", body matching %q", h.Body)
	}
	if h.MaxLatency > 0 {
		s += ", within " + h.MaxLatency.String()
	}
	return s
}
