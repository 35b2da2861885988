//! PyTorch reference values of the wake-sleep losses and gradients for `wake_sleep.rs`.

// The reference values below come from this PyTorch script (float64), run with torch 2.15:
//
// import math, torch
// torch.set_printoptions(precision=8)
// def build(lik):
//     shapes = [("encoder.fc1",4,3),("encoder.fc_mu",3,2),("encoder.fc_logvar",3,2),("decoder.fc1",2,3),("decoder.fc_out",3,4)]
//     if lik=="gaussian": shapes.append(("decoder.fc_out_logvar",3,4))
//     P={}; k=0
//     for n,i,o in shapes:
//         for suf,shape in ((".weight",(o,i)),(".bias",(o,))):
//             cnt=math.prod(shape)
//             P[n+suf]=torch.tensor([0.5*math.sin(0.7*(j+1)+k) for j in range(cnt)],dtype=torch.float64).reshape(shape).requires_grad_()
//             k+=1
//     return P
// def lin(P,n,x): return x@P[n+".weight"].T+P[n+".bias"]
// B=3
// x=torch.tensor([[((3*r+c)%5)/4 for c in range(4)] for r in range(B)],dtype=torch.float64)
// eps=torch.tensor([[0.3,-1.1],[0.8,0.2],[-0.5,1.4]],dtype=torch.float64)
// zd=torch.tensor([[1.2,-0.4],[-0.9,0.6],[0.1,-1.7]],dtype=torch.float64)
// for lik in ["bernoulli","gaussian"]:
//     P=build(lik)
//     if lik=="bernoulli":
//         u=torch.tensor([[((7*r+3*c)%10)/10+0.05 for c in range(4)] for r in range(B)],dtype=torch.float64)
//     else:
//         u=torch.tensor([[math.sin(r+2*c) for c in range(4)] for r in range(B)],dtype=torch.float64)
//     enc=lambda x: (lin(P,"encoder.fc_mu",torch.tanh(lin(P,"encoder.fc1",x))), lin(P,"encoder.fc_logvar",torch.tanh(lin(P,"encoder.fc1",x))))
//     def dec(z):
//         h=torch.tanh(lin(P,"decoder.fc1",z))
//         return lin(P,"decoder.fc_out",h), (lin(P,"decoder.fc_out_logvar",h) if lik=="gaussian" else None)
//     def nll(out,lv,x):
//         if lv is None:
//             return (torch.clamp(out,min=0)-x*out+torch.log1p(torch.exp(-out.abs()))).sum(1)
//         m=torch.sigmoid(out)
//         return 0.5*(lv+math.log(2*math.pi)+(x-m)**2*torch.exp(-lv)).sum(1)
//     mu,lv=enc(x); mu,lv=mu.detach(),lv.detach()
//     z=mu+torch.exp(0.5*lv)*eps
//     o,olv=dec(z)
//     wake=nll(o,olv,x).sum()
//     kl=(-0.5*(1+lv-mu**2-lv.exp()).sum(1))
//     negelbo=(nll(o,olv,x)+kl).sum()
//     with torch.no_grad():
//         do,dlv=dec(zd)
//         xd=(u<torch.sigmoid(do)).double() if lik=="bernoulli" else torch.sigmoid(do)+torch.exp(0.5*dlv)*u
//     qm,qlv=enc(xd)
//     sleep=(0.5*(qlv+math.log(2*math.pi)+(zd-qm)**2*torch.exp(-qlv))).sum()
//     (wake+sleep).backward()
//     print(f"// {lik}: wake {wake.item():.10f} sleep {sleep.item():.10f} neg_elbo {negelbo.item():.10f}")
//     print(f"const {lik.upper()}_LOSSES: [f64; 3] = [{wake.item():.10}, {sleep.item():.10}, {negelbo.item():.10}];")
//     print(f"const {lik.upper()}_GRADS: &[(&str, &[f64])] = &[")
//     for n,p in P.items():
//         g=p.grad.flatten().tolist() if p.grad is not None else []
//         print(f'    ("{n}", &[{", ".join(f"{v:.10}" for v in g)}]),')
//     print("];")
pub const BERNOULLI_LOSSES: [f64; 3] = [8.949894437, 8.37748879, 10.33089594];
pub const BERNOULLI_GRADS: &[(&str, &[f64])] = &[
    (
        "encoder.fc1.weight",
        &[
            0.1945677413,
            0.122752397,
            -0.148508636,
            0.0,
            1.131309894,
            0.04534377701,
            -0.1062223004,
            0.0,
            1.418861116,
            -0.2595095832,
            0.005960744609,
            0.0,
        ],
    ),
    (
        "encoder.fc1.bias",
        &[0.04605910527, 1.025087594, 1.42482186],
    ),
    (
        "encoder.fc_mu.weight",
        &[
            -1.347488073,
            -0.8968021082,
            0.3327584342,
            -0.6394502259,
            0.3585057865,
            -0.3801382141,
        ],
    ),
    ("encoder.fc_mu.bias", &[-2.289406622, -0.6927778734]),
    (
        "encoder.fc_logvar.weight",
        &[
            -0.4650162204,
            -0.3531030762,
            0.2484290442,
            0.315908364,
            0.1122273823,
            0.0173000069,
        ],
    ),
    ("encoder.fc_logvar.bias", &[-0.7731721559, 0.498019135]),
    (
        "decoder.fc1.weight",
        &[
            0.1453146956,
            -0.005968440336,
            0.1930945877,
            -0.04982268924,
            0.1616696827,
            -0.1880123865,
        ],
    ),
    (
        "decoder.fc1.bias",
        &[0.2259226143, 0.2642760757, 0.2773706558],
    ),
    (
        "decoder.fc_out.weight",
        &[
            -0.06887856212,
            -0.1058370112,
            0.1346265178,
            -0.4250388357,
            -0.3990667143,
            -0.06160969578,
            -0.03628342764,
            0.09788712477,
            0.1484423275,
            -0.1019622473,
            -0.01649080532,
            -0.1760877025,
        ],
    ),
    (
        "decoder.fc_out.bias",
        &[0.3727907378, -0.6975961652, 0.06766330141, -0.7830808456],
    ),
];
pub const GAUSSIAN_LOSSES: [f64; 3] = [11.86978634, 8.633227856, 13.25078784];
pub const GAUSSIAN_GRADS: &[(&str, &[f64])] = &[
    (
        "encoder.fc1.weight",
        &[
            0.1296278335,
            0.4226016582,
            -0.347875001,
            -0.0004708817832,
            0.4618717927,
            1.647586788,
            -0.5541777582,
            0.04353472568,
            0.2820936156,
            1.384915958,
            -0.06136067742,
            -0.04724170226,
        ],
    ),
    (
        "encoder.fc1.bias",
        &[0.1926794393, 1.055373197, 0.9559616865],
    ),
    (
        "encoder.fc_mu.weight",
        &[
            -1.804866629,
            0.643922637,
            -0.9301153123,
            -0.533460017,
            -0.05694029545,
            -0.03643663394,
        ],
    ),
    ("encoder.fc_mu.bias", &[-2.10043632, -0.7083036456]),
    (
        "encoder.fc_logvar.weight",
        &[
            -0.821274766,
            0.1688415011,
            -0.2319026811,
            0.3571884322,
            -0.1288737718,
            0.2034688662,
        ],
    ),
    ("encoder.fc_logvar.bias", &[-0.9590376861, 0.4254028304]),
    (
        "decoder.fc1.weight",
        &[
            -0.007764953182,
            0.3578256428,
            0.04905303928,
            0.3754769695,
            0.04816725724,
            0.0748857449,
        ],
    ),
    (
        "decoder.fc1.bias",
        &[-0.4133258232, -0.4583926101, -0.1949817708],
    ),
    (
        "decoder.fc_out.weight",
        &[
            0.008381394837,
            -0.0336115397,
            0.004194991009,
            -0.07798895904,
            -0.06935802531,
            -0.001101991389,
            0.005967681663,
            0.02504323204,
            0.02054377246,
            -0.04917485976,
            -0.01752635414,
            -0.005182459891,
        ],
    ),
    (
        "decoder.fc_out.bias",
        &[0.1137624026, -0.1087168502, 0.02044308681, -0.1388401282],
    ),
    (
        "decoder.fc_out_logvar.weight",
        &[
            0.2050329472,
            0.2145648823,
            0.3762552389,
            0.1924770657,
            0.1856158992,
            0.386873947,
            0.207574367,
            0.217580972,
            0.4300306072,
            0.1826888145,
            0.2217644458,
            0.4367382349,
        ],
    ),
    (
        "decoder.fc_out_logvar.bias",
        &[1.23338595, 1.284732624, 1.381915641, 1.308207146],
    ),
];
