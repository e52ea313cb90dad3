'use strict';
// Fastify baseline: POST /ping {"name":"World"} -> {"message":"Hello World!"}
const fastify = require('fastify')({ logger: false });

fastify.post('/ping', async (req) => ({ message: `Hello ${req.body.name}!` }));

fastify.listen({ port: Number(process.env.PORT || 3002), host: '127.0.0.1' }, (err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
});
