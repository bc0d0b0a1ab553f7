// `npm start`: a hub on an embedded SQLite database with a local agent.
// Filled in as the hub and agent land; until then it says what is missing.
console.log('Sonde local stack');
console.log('  hub:   not yet (issue: hub)');
console.log('  agent: not yet (issue: agent)');
