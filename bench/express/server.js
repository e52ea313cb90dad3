'use strict';
// Express baseline: POST /ping {"name":"World"} -> {"message":"Hello World!"}
const express = require('express');

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(express.json());

app.post('/ping', (req, res) => {
  res.json({ message: `Hello ${req.body.name}!` });
});

app.listen(Number(process.env.PORT || 3001), '127.0.0.1');
