package main

// The secret stores this binary reads from: each registers its kind with
// checks/config, and only its package imports its SDK.
import _ "github.com/credmon/credmon/checks/secretstore/awssm"
