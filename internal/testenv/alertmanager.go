package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// AlertmanagerBinEnv overrides where the Alertmanager binary is looked up (default:
// PATH, where Debian's prometheus-alertmanager package installs it).
const AlertmanagerBinEnv = "LAB_ALERTMANAGER_BIN"

// Alertmanager is a real Alertmanager process with its own port and storage, routing
// every alert to a receiver that notifies nobody.
type Alertmanager struct{ *daemon }

// AlertmanagerBinary finds the Alertmanager binary.
func AlertmanagerBinary() (string, error) {
	if bin := os.Getenv(AlertmanagerBinEnv); bin != "" {
		return bin, nil
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if bin, err := exec.LookPath(name); err == nil {
			return bin, nil
		}
	}
	return "", errors.New("alertmanager is not installed: run `make testenv` (it installs Debian's prometheus-alertmanager package) or set " + AlertmanagerBinEnv)
}

// alertmanagerConfig sends every alert to one receiver without notifications, grouping
// nothing for long: tests read alerts through the API, not from notifications.
const alertmanagerConfig = `route:
  receiver: "null"
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
`

// StartAlertmanager starts Alertmanager for a test and stops it when the test ends.
func StartAlertmanager(t testing.TB) *Alertmanager {
	t.Helper()
	bin, err := AlertmanagerBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(alertmanagerConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := startDaemon(ctx, "alertmanager", dir, bin, "/-/ready", func(addr string) []string {
		return []string{
			"--config.file=" + filepath.Join(dir, "alertmanager.yml"),
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--cluster.listen-address=", // no gossip port: one instance, nothing to peer with
			"--log.level=warn",
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return &Alertmanager{d}
}

// Silence silences the alerts named alertname for d, as `amtool silence add` does, and
// returns the silence's id.
func (a *Alertmanager) Silence(ctx context.Context, alertname string, d time.Duration) (string, error) {
	now := time.Now()
	body, _ := json.Marshal(map[string]any{
		"matchers":  []map[string]any{{"name": "alertname", "value": alertname, "isRegex": false, "isEqual": true}},
		"startsAt":  now.UTC().Format(time.RFC3339),
		"endsAt":    now.Add(d).UTC().Format(time.RFC3339),
		"createdBy": "lab tests",
		"comment":   "silenced by a test",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/api/v2/silences", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("creating a silence: HTTP %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.SilenceID, nil
}
