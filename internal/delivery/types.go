// Package delivery reads and steers Argo Rollouts' progressive deliveries: a rollout's
// step, weight, replica sets and analysis runs, and the manual-judgment actions the
// kubectl plugin has (promote, abort, retry), through the Rollout API itself, so a
// trainee needs neither the plugin nor its Go module. It reads the objects as JSON
// into the few fields lab shows, not through Argo's client, which would pull
// k8s.io/kubernetes into lab's build.
package delivery

import (
	"encoding/json"
	"time"
)

// Strategies of a rollout.
const (
	StrategyCanary    = "canary"
	StrategyBlueGreen = "blueGreen"
)

// Phases of a rollout, as the controller writes them in status.phase.
const (
	PhaseHealthy     = "Healthy"
	PhaseProgressing = "Progressing"
	PhasePaused      = "Paused"
	PhaseDegraded    = "Degraded"
)

// Phases of an analysis run.
const (
	AnalysisPending      = "Pending"
	AnalysisRunning      = "Running"
	AnalysisSuccessful   = "Successful"
	AnalysisFailed       = "Failed"
	AnalysisError        = "Error"
	AnalysisInconclusive = "Inconclusive"
)

// Rollout is what lab shows of one Argo Rollouts Rollout.
type Rollout struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Strategy  string `json:"strategy"`
	// Phase and Message are the controller's; Phase is empty until it has seen the
	// rollout (no controller runs, or it has not caught up yet).
	Phase   string `json:"phase"`
	Message string `json:"message,omitempty"`
	// Observed says the controller's status is about the rollout's current spec.
	Observed bool `json:"observed"`
	Aborted  bool `json:"aborted"`
	// Paused lists why the rollout waits: a pause step (CanaryPauseStep), a blue/green
	// preview waiting for promotion (BlueGreenPause), an inconclusive analysis
	// (InconclusiveAnalysisRun), or spec.paused (PausedBySpec).
	Paused []string `json:"paused,omitempty"`
	// Step is the canary's current step index (0-based) out of Steps; nil for
	// blue/green or a canary without steps.
	Step  *int `json:"step,omitempty"`
	Steps int  `json:"steps"`
	// Weight is the canary's share of replicas the current step set (setWeight), in
	// percent: 100 once every step is done.
	Weight *int `json:"weight,omitempty"`
	// StableHash is the pod-template hash of the version that serves; CurrentHash the
	// one being rolled out. Equal once the rollout is complete.
	StableHash  string        `json:"stableHash"`
	CurrentHash string        `json:"currentHash"`
	ReplicaSets []ReplicaSet  `json:"replicaSets"`
	Analysis    []AnalysisRun `json:"analysisRuns"`
}

// Promoted says every step is done: the current version is the stable one.
func (r *Rollout) Promoted() bool {
	return r.Observed && r.CurrentHash != "" && r.CurrentHash == r.StableHash
}

// LatestAnalysis is the newest analysis run, nil when there is none.
func (r *Rollout) LatestAnalysis() *AnalysisRun {
	if len(r.Analysis) == 0 {
		return nil
	}
	return &r.Analysis[0]
}

// ReplicaSet is one version of a rollout.
type ReplicaSet struct {
	Name     string `json:"name"`
	Hash     string `json:"hash"`
	Revision string `json:"revision"`
	// Role is stable, canary (the version being rolled out), preview (blue/green's new
	// version before promotion) or old.
	Role      string   `json:"role"`
	Images    []string `json:"images"`
	Replicas  int32    `json:"replicas"`
	Ready     int32    `json:"ready"`
	Available int32    `json:"available"`
}

// AnalysisRun is one run of an analysis against a version, newest first in a Rollout.
type AnalysisRun struct {
	Name    string    `json:"name"`
	Phase   string    `json:"phase"`
	Message string    `json:"message,omitempty"`
	Hash    string    `json:"hash,omitempty"`
	Created time.Time `json:"created"`
	Metrics []Metric  `json:"metrics"`
}

// Metric is one metric's measurements in an analysis run.
type Metric struct {
	Name         string `json:"name"`
	Phase        string `json:"phase"`
	Measurements int    `json:"measurements"`
	Successful   int    `json:"successful"`
	Failed       int    `json:"failed"`
	Inconclusive int    `json:"inconclusive"`
	Errors       int    `json:"errors"`
	// Last is the newest measurement's value, as the provider returned it.
	Last    string `json:"last,omitempty"`
	Message string `json:"message,omitempty"`
}

// The API objects, as far as lab reads them.
type (
	rolloutObject struct {
		Metadata objectMeta    `json:"metadata"`
		Spec     rolloutSpec   `json:"spec"`
		Status   rolloutStatus `json:"status"`
	}
	objectMeta struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		UID               string            `json:"uid"`
		Generation        int64             `json:"generation"`
		CreationTimestamp time.Time         `json:"creationTimestamp"`
		Labels            map[string]string `json:"labels"`
	}
	rolloutSpec struct {
		Paused   bool `json:"paused"`
		Strategy struct {
			Canary *struct {
				Steps []canaryStep `json:"steps"`
			} `json:"canary"`
			BlueGreen *struct {
				ActiveService  string `json:"activeService"`
				PreviewService string `json:"previewService"`
			} `json:"blueGreen"`
		} `json:"strategy"`
	}
	canaryStep struct {
		SetWeight *int            `json:"setWeight"`
		Pause     json.RawMessage `json:"pause"`
	}
	rolloutStatus struct {
		Phase              string `json:"phase"`
		Message            string `json:"message"`
		Abort              bool   `json:"abort"`
		ObservedGeneration string `json:"observedGeneration"`
		CurrentStepIndex   *int   `json:"currentStepIndex"`
		CurrentPodHash     string `json:"currentPodHash"`
		StableRS           string `json:"stableRS"`
		ControllerPause    bool   `json:"controllerPause"`
		PauseConditions    []struct {
			Reason string `json:"reason"`
		} `json:"pauseConditions"`
		Canary struct {
			CurrentStepAnalysisRunStatus *struct {
				Status string `json:"status"`
			} `json:"currentStepAnalysisRunStatus"`
		} `json:"canary"`
	}
	analysisRunObject struct {
		Metadata objectMeta `json:"metadata"`
		Status   struct {
			Phase         string `json:"phase"`
			Message       string `json:"message"`
			MetricResults []struct {
				Name         string `json:"name"`
				Phase        string `json:"phase"`
				Message      string `json:"message"`
				Count        int    `json:"count"`
				Successful   int    `json:"successful"`
				Failed       int    `json:"failed"`
				Inconclusive int    `json:"inconclusive"`
				Error        int    `json:"error"`
				Measurements []struct {
					Value string `json:"value"`
				} `json:"measurements"`
			} `json:"metricResults"`
		} `json:"status"`
	}
)
