#!/usr/bin/env node
// A committed launcher: npm links bins at install time, before a build writes dist/.
import '../dist/cli.js';
