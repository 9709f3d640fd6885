package dev.wmscope.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WorkermanRoleTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            Register              | text://0.0.0.0:1238      | REGISTER
            Register              | none                     | REGISTER
            ChatRegister          | text://127.0.0.1:1236    | REGISTER
            ChatRegister          | http://127.0.0.1:1236    | WORKER
            YourAppGateway        | websocket://0.0.0.0:7272 | GATEWAY
            gateway               | text://0.0.0.0:8282      | GATEWAY
            YourAppGateway        | none                     | WORKER
            YourAppBusinessWorker | none                     | BUSINESS_WORKER
            Business Worker       | none                     | BUSINESS_WORKER
            chat_business_worker  | none                     | BUSINESS_WORKER
            YourAppBusinessWorker | text://0.0.0.0:1         | WORKER
            none                  | none                     | WORKER
            webman                | http://0.0.0.0:8787      | WORKER
            monitor               | none                     | WORKER
            """)
    void guessesGatewayWorkerRolesFromNameAndListener(String name, String listen, WorkermanRole role) {
        assertThat(WorkermanRole.ofWorker(name, ListenUri.parse(listen))).isEqualTo(role);
    }

    @ParameterizedTest
    @CsvSource({"MASTER,master", "WORKER,worker", "GATEWAY,gateway", "BUSINESS_WORKER,business_worker",
            "REGISTER,register"})
    void attributeValues(WorkermanRole role, String value) {
        assertThat(role.attributeValue()).isEqualTo(value);
    }

    @Test
    void nullNameIsAPlainWorker() {
        assertThat(WorkermanRole.ofWorker(null, Optional.empty())).isEqualTo(WorkermanRole.WORKER);
    }
}
