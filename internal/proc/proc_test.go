package proc

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestRunning: this process runs; a reaped one and a zombie (exited, not yet waited
// for) do not, where /proc can tell.
func TestRunning(t *testing.T) {
	if !HasProcfs() {
		t.Skip("no /proc here: zombies cannot be told from live processes")
	}
	reaped := exec.Command("true")
	if err := reaped.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	// Not waited for, the exited child stays a zombie; give it time to exit.
	for deadline := time.Now().Add(10 * time.Second); Running(zombie.Process.Pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{"this process", os.Getpid(), true},
		{"reaped", reaped.Process.Pid, false},
		{"zombie", zombie.Process.Pid, false},
		{"init and below", 1, false},
	}
	for _, tt := range tests {
		if got := Running(tt.pid); got != tt.want {
			t.Errorf("Running(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if start, err := StartTime(os.Getpid()); err != nil || start == 0 {
		t.Errorf("StartTime(self) = %d, %v; want the start time", start, err)
	}
}
