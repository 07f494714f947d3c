// Package chaos breaks a lab's cluster on purpose and always puts it back.
//
// A fault (pod-kill, scale, bad-rollout, ...) validates its parameters, says whether it
// can run on this cluster and why not, plans exactly which objects it will change (the
// plan is all a dry run does), injects, and keeps in a journal entry what it needs to
// revert. The order is what makes chaos safe by construction:
//
//  1. guard rails: only labs lab created or adopted with consent, never the system or
//     stack namespaces unless asked, a cap on the pods one fault may take away and on
//     what it may grow (the nodes' free pod slots, a node's allocatable CPU and
//     memory); a gameday puts every fault of its timeline through them before the first;
//  2. the plan, from reads only;
//  3. the journal entry, written and synced to disk with the revert record before the
//     cluster is touched;
//  4. the injection, which also annotates the targets (lab.cloudnativelab.io/chaos-*),
//     so the cluster shows what is broken and by which entry;
//  5. the revert: idempotent, retried with backoff, and only then is the entry marked
//     reverted, dropping what only the revert needed (a Secret's saved value). A
//     process that dies in between leaves an active entry that `lab chaos status` lists
//     and `lab chaos revert --all` undoes.
//
// Engines never print: progress goes to an event.Emitter, failures are *errs.Error.
package chaos
