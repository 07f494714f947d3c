package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Grafana posts annotations through Grafana's HTTP API (POST /api/annotations, then a
// PATCH setting timeEnd), so dashboards show when each fault started and ended.
type Grafana struct {
	URL      string // e.g. http://localhost:3000
	User     string
	Password string
	HTTP     *http.Client
}

func (g *Grafana) client() *http.Client {
	if g.HTTP != nil {
		return g.HTTP
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// annotation is Grafana's request body; times are Unix milliseconds.
type annotation struct {
	Time    int64    `json:"time,omitempty"`
	TimeEnd int64    `json:"timeEnd,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// Start posts the annotation of a fault's start and returns its id.
func (g *Grafana) Start(ctx context.Context, e *Entry) (int64, error) {
	at := e.CreatedAt
	if e.InjectedAt != nil {
		at = *e.InjectedAt
	}
	body := annotation{
		Time: at.UnixMilli(),
		Tags: []string{"lab-chaos", e.Fault, "lab:" + e.Lab},
		Text: fmt.Sprintf("lab chaos %s: %s (%s)", e.ID, e.Summary, e.Source),
	}
	var resp struct {
		ID int64 `json:"id"`
	}
	if err := g.do(ctx, http.MethodPost, "/api/annotations", body, &resp); err != nil {
		return 0, err
	}
	if resp.ID == 0 {
		return 0, fmt.Errorf("grafana answered without an annotation id")
	}
	return resp.ID, nil
}

// End turns the start annotation into a region ending at.
func (g *Grafana) End(ctx context.Context, id int64, at time.Time) error {
	return g.do(ctx, http.MethodPatch, "/api/annotations/"+strconv.FormatInt(id, 10), annotation{TimeEnd: at.UnixMilli()}, nil)
}

// Healthy asks GET /api/health, the cheapest "does Grafana answer".
func (g *Grafana) Healthy(ctx context.Context) error {
	return g.do(ctx, http.MethodGet, "/api/health", nil, nil)
}

func (g *Grafana) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(g.URL, "/")+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if g.User != "" {
		req.SetBasicAuth(g.User, g.Password)
	}
	resp, err := g.client().Do(req)
	if err != nil {
		return fmt.Errorf("grafana %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("grafana %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("grafana %s %s: unreadable answer: %w", method, path, err)
		}
	}
	return nil
}

// GrafanaPlan decides whether a lab's faults are annotated in Grafana: only when its
// monitoring stack is installed and its Grafana can be reached. The reason says why
// not, for the user to read.
func GrafanaPlan(l *Lab, url string) (use bool, reason string) {
	switch {
	case !slices.Contains(l.Stacks, "monitoring"):
		return false, "Grafana annotations skipped: lab " + l.Name + " has no monitoring stack"
	case l.Simulated:
		return false, "Grafana annotations skipped: on sim no container runs, so there is no Grafana to annotate"
	case url == "":
		return false, "Grafana annotations skipped: pass --grafana-url to name the monitoring stack's Grafana"
	}
	return true, ""
}
